/* dagrad._moments: min, max, sum and sum of squares of a float buffer, in one pass.
 *
 * Every value and gradient dagrad reports carries statistics. For a large CPU tensor, PyTorch
 * needs three passes (aminmax, sum, norm), each a parallel region: about 1.4 ms over the 4.7M
 * floats of the course's Net at batch 256, and 0.3-0.4 ms even over 0.5M floats, where waking
 * threads costs more than reading. This one pass reads the buffer once, on the calling thread,
 * with the GIL released: 0.5-0.9 ms and 0.09 ms on the same tensors (bench/README.md).
 *
 * The extension is optional (setup.py): without a C compiler dagrad installs without it, and
 * dagrad.payload takes PyTorch's three passes instead.
 *
 * Precision: float32 elements are added in float32 within blocks of BLOCK elements (BLOCK / LANES
 * per accumulator, as PyTorch's vectorised sums do), the blocks' sums in float64. float64
 * elements are added in float64. NaN and inf are not looked for: they make the sum or the sum of
 * squares NaN or inf, and the caller then counts them with PyTorch.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#define LANES 16   /* independent accumulators: a compiler keeps them in vector registers */
#define BLOCK 1024 /* float32 elements added in float32 before their sum joins the float64 total */

/* Compiled twice on x86-64 with GCC, for AVX2 and for the baseline, and picked when loaded:
 * AVX2 doubles the elements per instruction, and a build must still run on any x86-64. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_VERSIONS __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_VERSIONS
#endif

typedef struct {
    double min, max, sum, sumsq;
} Moments;

VECTOR_VERSIONS
static Moments moments_f32(const float *x, Py_ssize_t n) {
    float lo[LANES], hi[LANES];
    double sum = 0.0, sumsq = 0.0;
    for (int l = 0; l < LANES; l++) {
        lo[l] = INFINITY;
        hi[l] = -INFINITY;
    }
    Py_ssize_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        float s[LANES] = {0}, q[LANES] = {0};
        for (Py_ssize_t j = i; j < i + BLOCK; j += LANES) {
            for (int l = 0; l < LANES; l++) {
                float v = x[j + l];
                lo[l] = v < lo[l] ? v : lo[l];
                hi[l] = v > hi[l] ? v : hi[l];
                s[l] += v;
                q[l] += v * v;
            }
        }
        for (int l = 0; l < LANES; l++) {
            sum += s[l];
            sumsq += q[l];
        }
    }
    float min = INFINITY, max = -INFINITY;
    for (int l = 0; l < LANES; l++) {
        min = lo[l] < min ? lo[l] : min;
        max = hi[l] > max ? hi[l] : max;
    }
    for (; i < n; i++) {
        float v = x[i];
        min = v < min ? v : min;
        max = v > max ? v : max;
        sum += v;
        sumsq += (double)v * v;
    }
    return (Moments){min, max, sum, sumsq};
}

VECTOR_VERSIONS
static Moments moments_f64(const double *x, Py_ssize_t n) {
    double lo[LANES], hi[LANES], s[LANES] = {0}, q[LANES] = {0};
    for (int l = 0; l < LANES; l++) {
        lo[l] = INFINITY;
        hi[l] = -INFINITY;
    }
    Py_ssize_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (int l = 0; l < LANES; l++) {
            double v = x[i + l];
            lo[l] = v < lo[l] ? v : lo[l];
            hi[l] = v > hi[l] ? v : hi[l];
            s[l] += v;
            q[l] += v * v;
        }
    }
    Moments m = {INFINITY, -INFINITY, 0.0, 0.0};
    for (int l = 0; l < LANES; l++) {
        m.min = lo[l] < m.min ? lo[l] : m.min;
        m.max = hi[l] > m.max ? hi[l] : m.max;
        m.sum += s[l];
        m.sumsq += q[l];
    }
    for (; i < n; i++) {
        double v = x[i];
        m.min = v < m.min ? v : m.min;
        m.max = v > m.max ? v : m.max;
        m.sum += v;
        m.sumsq += v * v;
    }
    return m;
}

PyDoc_STRVAR(moments_doc,
             "moments(buffer) -> (min, max, sum, sum_of_squares)\n\n"
             "One pass over a C-contiguous buffer of float32 ('f') or float64 ('d') elements, with\n"
             "the GIL released. NaN elements are skipped by min and max but make the sums NaN.");

static PyObject *moments(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return NULL;
    }
    const char *format = view.format == NULL ? "B" : view.format;
    if (format[0] == '<' || format[0] == '=' || format[0] == '@') {
        format++;
    }
    int is_f32 = strcmp(format, "f") == 0 && view.itemsize == 4;
    int is_f64 = strcmp(format, "d") == 0 && view.itemsize == 8;
    if (!is_f32 && !is_f64) {
        PyErr_Format(PyExc_TypeError, "moments() takes float32 or float64 elements, not format '%s'", view.format);
        PyBuffer_Release(&view);
        return NULL;
    }
    if (view.len == 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "moments() of an empty buffer");
        return NULL;
    }
    Py_ssize_t n = view.len / view.itemsize;
    Moments m;
    Py_BEGIN_ALLOW_THREADS
    m = is_f32 ? moments_f32((const float *)view.buf, n) : moments_f64((const double *)view.buf, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return Py_BuildValue("(dddd)", m.min, m.max, m.sum, m.sumsq);
}

static PyMethodDef methods[] = {
    {"moments", moments, METH_O, moments_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_moments", "One-pass statistics of float buffers (see dagrad.payload).", -1, methods,
};

PyMODINIT_FUNC PyInit__moments(void) { return PyModule_Create(&module); }

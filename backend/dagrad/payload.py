"""Turn tensors into payloads: statistics always, data up to a size, compactly encoded.

Data travels as base64 of little-endian bytes: on 800k floats that took 3.4 ms
where JSON lists took 370 ms. Statistics are computed on the tensor's own
device and fetched with a single transfer.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pybase64  # SIMD base64: about 3x the standard library's speed on tensor data
import torch

from dagrad.results import PayloadOptions, TensorData, TensorPayload, TensorStats

_one_pass: Callable[[Any], tuple[float, float, float, float]] | None
try:  # the one-pass C kernel (setup.py); optional: without it, PyTorch's and numpy's reductions
    from dagrad._moments import moments as _one_pass
except ImportError:  # pragma: no cover - depends on the install
    _one_pass = None

_WIRE_DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "uint8"}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


# Tensors up to _FLOAT64_SUM_MAX elements are joined and reduced together in float64 by numpy
# (_small_stats), whose calls cost about 1 µs each where a torch call costs 3-8 µs: most tensors
# of a classroom graph are small, so this is most of a small run's statistics cost. Larger ones
# go one by one to the C kernel (_large_stats); where it is not built, to numpy up to
# _NUMPY_MAX_ELEMENTS, and past that to torch's reductions, which run on every core.
_FLOAT64_SUM_MAX = 4096
_NUMPY_MAX_ELEMENTS = 1 << 16
# Larger tensors are reduced in rows of this many elements, the row results added in float64: one
# long float32 accumulation would lose digits (vector_norm of 4.7M floats: 1e-4 relative error).
_ROW = 1024
# std comes from the sum of squares: sum((x - mean)²) = sum(x²) - n·mean². That difference loses
# digits when the mean dominates, so past this ratio of sum(x²) to sum((x - mean)²) std is computed
# again, exactly. float32 sums keep about 7 digits (so the ratio allowed keeps the error near 1e-6),
# float64 sums about 16.
_MAX_CANCELLATION = {np.dtype(np.float32): 16.0, np.dtype(np.float64): 1e4}
_FLOATS = (torch.float32, torch.float64)


def stats(t: torch.Tensor) -> TensorStats:
    """min, max, mean, std (n - 1), norm, and the count of NaN and inf, of any tensor."""
    x = t.detach()
    n = x.numel()
    if n == 0:
        return _EMPTY
    if x.device.type != "cpu":
        return _device_stats([x])[0]
    if x.dtype not in _FLOATS:
        x = x.to(torch.float64)
    if n <= _FLOAT64_SUM_MAX:
        return _small_stats([x])[0]
    return _large_stats(x) or _device_stats([x])[0]


def native() -> bool:
    """Whether the one-pass C kernel (dagrad._moments) was built and is used."""
    return _one_pass is not None


class Moments(NamedTuple):
    """min, max, sum and sum of squares of a tensor's elements, and the dtype its elements were
    summed in: what its statistics come from."""

    lo: float
    hi: float
    s: float
    q: float
    summed_in: np.dtype[Any]


def _large_stats(x: torch.Tensor) -> TensorStats | None:
    """stats() of a floating point CPU tensor over _FLOAT64_SUM_MAX elements, None where it holds
    NaN or inf."""
    return _from_moments(x, _large_moments(x))


def _large_moments(x: torch.Tensor) -> Moments:
    """One pass of the C kernel where it was built: 3-5x faster than the alternatives, which are
    numpy's reductions up to _NUMPY_MAX_ELEMENTS, then PyTorch's."""
    if _one_pass is not None and x.is_contiguous():
        # float32 elements are summed in float32 within blocks of 1024 (see _moments.c)
        return Moments(*_one_pass(x.numpy()), _summed_in(x))
    return _numpy_moments(x) if x.numel() <= _NUMPY_MAX_ELEMENTS else _row_moments(x)


def _summed_in(x: torch.Tensor) -> np.dtype[Any]:
    return np.dtype(np.float32) if x.dtype == torch.float32 else np.dtype(np.float64)


def _numpy_moments(x: torch.Tensor) -> Moments:
    """min and max, then the sum (numpy's is pairwise) and the sum of squares (einsum: numpy's own
    loop; np.dot would wake OpenBLAS's threads, which then fight torch's for the cores)."""
    a = x.numpy().reshape(-1)
    return Moments(float(a.min()), float(a.max()), float(a.sum()), float(np.einsum("i,i->", a, a)), a.dtype)


def _row_moments(x: torch.Tensor) -> Moments:
    """The same of a large tensor in three multi-threaded passes (std_mean would be one slow pass
    on a CPU: 26 ms against 0.5 ms for a sum over 4.7M floats)."""
    flat = x.reshape(-1)
    rows, tail = _rows_and_tail(flat)
    lo, hi = torch.aminmax(flat)
    parts = torch.stack((rows.sum(dim=1), torch.linalg.vector_norm(rows, dim=1))).numpy().astype(np.float64)
    s = float(parts[0].sum() + tail.sum())
    q = float(np.einsum("i,i->", parts[1], parts[1]) + np.einsum("i,i->", tail, tail))
    return Moments(lo.item(), hi.item(), s, q, _summed_in(x))


def _from_moments(x: torch.Tensor, m: Moments) -> TensorStats | None:
    return _from_sums(x, m.summed_in, m.lo, m.hi, m.s, m.q)


def _from_sums(
    x: torch.Tensor, summed_in: np.dtype[Any], lo: float, hi: float, s: float, q: float
) -> TensorStats | None:
    """The statistics from min, max, the sum and the sum of squares; None when one of these is not
    finite: the exact path then counts NaN and inf."""
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(s) and math.isfinite(q)):
        return None
    n = x.numel()
    mean = s / n
    std = None
    if n > 1:
        centred = q - s * mean
        if centred * _MAX_CANCELLATION[summed_in] < q:  # the mean dominates: a second pass, exact
            centred = _centred_sum_of_squares(x, mean)
        std = math.sqrt(max(centred, 0.0) / (n - 1))
    return _summary(x.dtype, lo, hi, mean, std, math.sqrt(q))


def _centred_sum_of_squares(x: torch.Tensor, mean: float) -> float:
    """sum((x - mean)²), each row's partial sum added in float64."""
    if x.numel() <= _NUMPY_MAX_ELEMENTS:
        d = x.numpy().reshape(-1).astype(np.float64) - mean
        return float(np.einsum("i,i->", d, d))
    return _sum_of_squares(x.reshape(-1) - mean)


def _sum_of_squares(flat: torch.Tensor) -> float:
    rows, tail = _rows_and_tail(flat)
    norms = torch.linalg.vector_norm(rows, dim=1).numpy().astype(np.float64)
    return float(np.einsum("i,i->", norms, norms) + np.einsum("i,i->", tail, tail))


def _rows_and_tail(flat: torch.Tensor) -> tuple[torch.Tensor, np.ndarray[Any, Any]]:
    """A flat tensor as rows of _ROW elements (a view), and what is left over, in float64."""
    whole = flat.numel() - flat.numel() % _ROW
    return flat[:whole].view(-1, _ROW), flat[whole:].numpy().astype(np.float64)


def _summary(dtype: torch.dtype, lo: float, hi: float, mean: float, std: float | None, norm: float) -> TensorStats:
    if dtype == torch.float32:  # report what a float32 result would hold, as torch's reductions do
        mean, norm = _float32(mean), _float32(norm)
        std = None if std is None else _float32(std)
    return TensorStats(
        min=lo, max=hi, mean=_finite(mean), std=None if std is None else _finite(std), norm=_finite(norm), nan=0, inf=0
    )


def _float32(v: float) -> float:
    """v rounded to float32; past float32's range, inf (which the payload then reports as null)."""
    try:
        return float(_F32.unpack(_F32.pack(v))[0])
    except OverflowError:
        return math.copysign(math.inf, v)


_F32 = struct.Struct("f")


class Noted:
    """Statistics of tensors, each kept with the tensor and its version counter: they stand for as
    long as the tensor is not written again (in place, or through a view of it)."""

    def __init__(self) -> None:
        # The tensor itself is kept: its id cannot be reused by another while this holds it.
        self._by_id: dict[int, tuple[torch.Tensor, int, TensorStats, Moments | None]] = {}

    def note(self, t: torch.Tensor) -> None:
        # Smaller tensors are summarised together when the payloads are made (_cpu_stats). Those
        # between 4,096 and 65,536 elements are read from cache here, from memory there: 0.3-0.4 ms
        # of the course's Net at batch 256.
        if t.numel() > _FLOAT64_SUM_MAX and t.device.type == "cpu" and t.dtype in _FLOATS:
            x = t.detach()
            m = _large_moments(x)
            st = _from_moments(x, m)
            if st is None:  # NaN or inf: counted by the exact path
                self._by_id[id(t)] = (t, t._version, _device_stats([x])[0], None)
            else:
                self._by_id[id(t)] = (t, t._version, st, m)

    def note_routed(self, t: torch.Tensor, source: torch.Tensor | None) -> None:
        """Note `t`, a tensor that holds each element of `source` once and zeros everywhere else,
        from the moments noted of `source`, without reading `t`: a max-pooling's input gradient,
        made of its output gradient (ops.registry.OpDef.routes_grad). 0.8 ms of the course's Net
        at batch 256, where it is conv1's 4.7M-float gradient. Read as note() does otherwise."""
        entry = None if source is None else self._by_id.get(id(source))
        if (
            entry is None
            or entry[0] is not source
            or entry[1] != source._version
            or entry[3] is None
            or t.dtype != source.dtype
            or t.numel() < source.numel()
        ):
            self.note(t)
            return
        m = entry[3]
        if t.numel() > source.numel():  # the zeros
            m = m._replace(lo=min(m.lo, 0.0), hi=max(m.hi, 0.0))
        st = _from_moments(t.detach(), m)
        assert st is not None  # the moments were finite, and zeros keep them so
        self._by_id[id(t)] = (t, t._version, st, m)

    def of(self, t: torch.Tensor) -> TensorStats | None:
        entry = self._by_id.get(id(t))
        return entry[2] if entry is not None and entry[0] is t and entry[1] == t._version else None

    def clear(self) -> None:
        self._by_id.clear()


class EarlyStats:
    """Statistics of large CPU tensors taken while the CPU's cache still holds them.

    A value is summarised just after its op wrote it, a gradient as backward hands it over. After
    the whole run has gone through memory, the same reductions read them back from DRAM: about
    0.8 ms more for each 4.7M floats of the course's Net at batch 256. A value written again
    afterwards, or a gradient summed over several backward passes, is summarised anew when its
    payload is made. Values and gradients are kept apart: backward hooks hold `grads`, and must
    not hold the values (the tensors hold their hooks: that cycle would keep a run's memory).
    """

    def __init__(self) -> None:
        self.values = Noted()
        self.grads = Noted()

    def clear(self) -> None:
        self.values.clear()
        self.grads.clear()


def _cpu_stats(tensors: Sequence[torch.Tensor], known: Sequence[TensorStats | None]) -> list[TensorStats]:
    """stats() of each CPU tensor (those in `known` taken from there), once per distinct block of
    memory: a view node's value (reshape, flatten) and its gradient often share their elements with
    another node's. Small floating point tensors are reduced together, a few numpy calls for all."""
    out: list[TensorStats | None] = list(known)
    first: dict[tuple[int, int, torch.dtype], int] = {}
    same_as: dict[int, int] = {}
    small: list[int] = []
    for i, t in enumerate(tensors):
        if out[i] is not None:
            continue
        key = (t.data_ptr(), t.numel(), t.dtype) if t.numel() and t.is_contiguous() else None
        if key is not None and key in first:
            same_as[i] = first[key]
            continue
        if key is not None:
            first[key] = i
        if 0 < t.numel() <= _FLOAT64_SUM_MAX and t.dtype in _FLOATS:
            small.append(i)
        else:
            out[i] = stats(t)
    for i, st in zip(small, _small_stats([tensors[i] for i in small]), strict=True):
        out[i] = st
    for i, j in same_as.items():
        out[i] = out[j]
    assert all(st is not None for st in out)
    return [st for st in out if st is not None]


def _small_stats(tensors: list[torch.Tensor]) -> list[TensorStats]:
    """stats() of many small floating point CPU tensors: their elements are joined into one float64
    array and reduced segment by segment (reduceat), four numpy calls in all."""
    if not tensors:
        return []
    arrays = [t.numpy().reshape(-1) for t in tensors]
    flat = np.concatenate(arrays, dtype=np.float64)
    starts = np.cumsum([0, *(a.size for a in arrays[:-1])])
    sums = [
        np.minimum.reduceat(flat, starts).tolist(),
        np.maximum.reduceat(flat, starts).tolist(),
        np.add.reduceat(flat, starts).tolist(),
        np.add.reduceat(flat * flat, starts).tolist(),
    ]
    f64 = np.dtype(np.float64)
    return [
        _from_sums(t, f64, lo, hi, s, q) or _device_stats([t])[0]
        for t, lo, hi, s, q in zip(tensors, *sums, strict=True)
    ]


def _nested(values: Any) -> Any:
    if isinstance(values, list):
        return [_nested(v) for v in values]
    if isinstance(values, float) and not math.isfinite(values):
        return None
    return values


def encode(t: torch.Tensor, encoding: str) -> TensorData:
    """The elements of a CPU tensor, as base64 of little-endian bytes or nested lists."""
    cpu = t.detach() if t.requires_grad else t
    wire = _WIRE_DTYPES.get(cpu.dtype)
    if wire is None:  # other dtypes travel as float64
        cpu, wire = cpu.to(torch.float64), "float64"
    if encoding == "list":
        return TensorData(encoding="list", dtype=wire, values=_nested(cpu.tolist()))
    array = cpu.numpy()
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    raw = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    return TensorData(encoding="base64", dtype=wire, b64=pybase64.b64encode_as_string(raw.data))


# Tensors up to this size are reduced together by segment reductions; PyTorch's GPU kernel for those
# reduces each segment in one thread, so larger tensors get ordinary (parallel) reductions of their own.
_SEGMENT_MAX = 1 << 14


def _segment_rows(tensors: list[torch.Tensor]) -> torch.Tensor:
    """[min, max, mean, std, norm, nan, inf] of many small tensors in a fixed number of kernels."""
    flat = torch.cat([t.reshape(-1).to(torch.float64) for t in tensors])
    lengths = torch.tensor([t.numel() for t in tensors], device=flat.device)
    n = lengths.to(torch.float64)
    mean = torch.segment_reduce(flat, "sum", lengths=lengths) / n
    centred = flat - torch.repeat_interleave(mean, lengths, output_size=flat.numel())
    var = torch.segment_reduce(centred * centred, "sum", lengths=lengths) / (n - 1).clamp(min=1)
    return torch.stack(
        [
            torch.segment_reduce(flat, "min", lengths=lengths),
            torch.segment_reduce(flat, "max", lengths=lengths),
            mean,
            var.sqrt(),
            torch.segment_reduce(flat * flat, "sum", lengths=lengths).sqrt(),
            torch.segment_reduce(flat.isnan().to(torch.float64), "sum", lengths=lengths),
            torch.segment_reduce(flat.isinf().to(torch.float64), "sum", lengths=lengths),
        ],
        dim=1,
    )


def _tensor_row(t: torch.Tensor) -> torch.Tensor:
    """The same statistics of one large tensor, left on its device."""
    x = t if t.is_floating_point() else t.to(torch.float64)
    lo, hi = torch.aminmax(x)
    std, mean = torch.std_mean(x)
    norm = torch.linalg.vector_norm(x)
    return torch.stack([lo, hi, mean, std, norm, x.isnan().sum(), x.isinf().sum()]).to(torch.float64)[None]


def _device_stats(tensors: Sequence[torch.Tensor]) -> list[TensorStats]:
    """Every statistic of every tensor, computed on its device and read back in one transfer.

    On a GPU the cost is in launching kernels and waiting for them, not in the arithmetic: small
    tensors are reduced together, segment by segment, large ones each by its own few kernels, and
    nothing is read back until all of them are queued. On a CPU it is the exact path, one reduction
    per statistic and the NaN and inf counts, for the tensors whose sums are not finite.
    """
    small = [t for t in tensors if 0 < t.numel() <= _SEGMENT_MAX]
    large = [t for t in tensors if t.numel() > _SEGMENT_MAX]
    parts = ([_segment_rows(small)] if small else []) + [_tensor_row(t) for t in large]
    if not parts:
        return [_EMPTY for _ in tensors]
    rows = torch.cat(parts).tolist()
    by_tensor = {id(t): row for t, row in zip([*small, *large], rows, strict=True)}
    out = []
    for t in tensors:
        if not t.numel():
            out.append(_EMPTY)
            continue
        lo, hi, mean_v, std, norm, nan, inf = by_tensor[id(t)]
        if nan:  # as torch.aminmax does: a NaN anywhere makes every statistic NaN
            lo = hi = mean_v = std = norm = math.nan
        if t.dtype == torch.float32:  # report what a float32 reduction holds, as the CPU path does
            with np.errstate(over="ignore"):
                lo, hi, mean_v, std, norm = (float(v) for v in np.array([lo, hi, mean_v, std, norm], dtype=np.float32))
        out.append(
            TensorStats(
                min=_finite(lo),
                max=_finite(hi),
                mean=_finite(mean_v),
                std=_finite(std) if t.numel() > 1 else None,
                norm=_finite(norm),
                nan=int(nan),
                inf=int(inf),
            )
        )
    return out


_EMPTY = TensorStats(min=None, max=None, mean=None, std=None, norm=None, nan=0, inf=0)


def _to_host(tensors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Copy tensors to the CPU with one transfer per dtype (each copy from a GPU waits for it)."""
    if not any(t.device.type != "cpu" for t in tensors):
        return list(tensors)
    host: list[torch.Tensor | None] = [None] * len(tensors)
    for dtype in {t.dtype for t in tensors}:
        idx = [i for i, t in enumerate(tensors) if t.dtype == dtype]
        flat = torch.cat([tensors[i].reshape(-1) for i in idx]).cpu()
        for i, part in zip(idx, torch.split(flat, [tensors[i].numel() for i in idx]), strict=True):
            host[i] = part.view(tensors[i].shape)
    return [h for h in host if h is not None]


def _note(node: str, numel: int, limit: int, wants_full: bool, hard_max: int) -> str:
    if wants_full:
        return (
            f"{numel:,} elements exceed this server's limit of {hard_max:,} per tensor; only the statistics are given."
        )
    return (
        f"data left out: {numel:,} elements is more than max_elements={limit:,}. "
        f"Ask for it with ?full={node} (or ?max_elements={numel}) on the same request."
    )


def payloads(
    tensors: Sequence[tuple[torch.Tensor, str]],
    options: PayloadOptions,
    default_max: int,
    hard_max: int,
    known: Sequence[TensorStats | None] | None = None,
) -> list[TensorPayload]:
    """Payloads of (tensor, node id) pairs: statistics always (those in `known` taken from
    there), data up to the size asked for."""
    detached = [t.detach() for t, _ in tensors]
    on_gpu = any(t.device.type != "cpu" for t in detached)
    all_stats = _device_stats(detached) if on_gpu else _cpu_stats(detached, known or [None] * len(detached))
    asked = default_max if options.max_elements is None else options.max_elements
    wants_full = [node in options.full or "*" in options.full for _, node in tensors]
    limits = [hard_max if full else min(asked, hard_max) for full in wants_full]
    sent = [i for i, t in enumerate(detached) if t.numel() <= limits[i]]
    host = dict(zip(sent, _to_host([detached[i] for i in sent]), strict=True))
    result = []
    for i, ((t, node), st) in enumerate(zip(tensors, all_stats, strict=True)):
        data = encode(host[i], options.encoding) if i in host else None
        result.append(
            TensorPayload(
                shape=list(t.shape),
                dtype=str(t.dtype).removeprefix("torch."),
                numel=t.numel(),
                stats=st,
                data=data,
                truncated=data is None,
                note=None if data is not None else _note(node, t.numel(), limits[i], wants_full[i], hard_max),
            )
        )
    return result

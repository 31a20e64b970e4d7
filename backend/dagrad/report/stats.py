"""The statistics every payload carries: min, max, mean, std (n - 1), norm, and how many
elements are NaN and how many are ±inf.

One path per device:
- CPU tensors, one by one, by PyTorch's reductions, summed in float64: min and max, the sum and
  the sum of squares, from which mean, std and norm follow (small float32 tensors, and integer
  and bool ones, converted to float64). A float32 tensor longer than a row
  is reduced in rows of _ROW elements whose results are added in float64: one long float32
  accumulation loses digits (the norm of 4.7M floats by vector_norm: 1e-4 relative error), and
  PyTorch's one-pass alternatives (std_mean, var_mean) are an order of magnitude slower on a CPU
  (bench/README.md). A sum that is not finite (NaN, ±inf, float32 overflow) sends the tensor to
  the exact path.
- The exact path, which is also every GPU tensor's: each statistic by its own reduction, NaN and
  inf counted, on the tensor's device, all tensors' results read back in one transfer; small
  tensors are reduced together by segment reductions, since on a GPU the cost is in launches.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence

import torch

from dagrad.results import TensorStats

EMPTY = TensorStats(min=None, max=None, mean=None, std=None, norm=None, nan=0, inf=0)

# Rows of a float32 tensor: each row's sum and norm in float32, the rows' results in float64.
_ROW = 1024
# Integer and bool tensors are converted to float64 in chunks of this many elements (8 MiB each),
# so that a large one never needs a whole float64 copy of itself.
_CHUNK = 1 << 20
# std comes from the sum of squares: sum((x - mean)²) = sum(x²) - n·mean². That difference loses
# digits when the mean dominates: past this ratio of sum(x²) to sum((x - mean)²) it is computed
# again from x - mean. Rows summed in float32 keep about 7 digits (the ratio allowed keeps std's
# error near 1e-6), float64 sums about 16.
_MAX_CANCELLATION_ROWS = 16.0
_MAX_CANCELLATION_FLOAT64 = 1e4
# The exact path reduces tensors up to this size together, segment by segment: PyTorch's GPU
# kernel for segment reductions reduces each segment in one thread, so larger tensors get
# ordinary (parallel) reductions of their own.
_SEGMENT_MAX = 1 << 14


def stats_of(tensors: Sequence[torch.Tensor]) -> list[TensorStats]:
    """The statistics of each tensor, in order."""
    xs = [t.detach() for t in tensors]
    if any(x.device.type != "cpu" for x in xs):
        return exact_stats(xs)
    out = [_cpu_stats(x) for x in xs]
    redo = [i for i, st in enumerate(out) if st is None]
    for i, st in zip(redo, exact_stats([xs[i] for i in redo]), strict=True):
        out[i] = st
    return [EMPTY if st is None else st for st in out]


def _cpu_stats(x: torch.Tensor) -> TensorStats | None:
    """The statistics of a CPU tensor from its moments; None when a moment is not finite."""
    n = x.numel()
    if n == 0:
        return EMPTY
    flat = x.reshape(-1)
    lo, hi, s, q = _moments(flat)
    if not all(math.isfinite(v) for v in (lo, hi, s, q)):
        return None
    mean = s / n
    std = None
    if n > 1:
        centred = q - s * mean
        limit = _MAX_CANCELLATION_ROWS if _in_rows(flat) else _MAX_CANCELLATION_FLOAT64
        if centred * limit < q:  # the mean dominates: sum((x - mean)²) from x - mean itself
            shifted = (flat if _in_rows(flat) else flat.to(torch.float64)) - mean
            _, _, ds, dq = _moments(shifted)
            centred = dq - ds * ds / n
        std = math.sqrt(max(centred, 0.0) / (n - 1))
    return _summary(x.dtype, lo, hi, mean, std, math.sqrt(q))


def _in_rows(flat: torch.Tensor) -> bool:
    return flat.dtype == torch.float32 and flat.numel() > _ROW


def _moments(flat: torch.Tensor) -> tuple[float, float, float, float]:
    """min, max, sum and sum of squares of a non-empty flat tensor, summed in float64."""
    if _in_rows(flat):
        whole = flat.numel() - flat.numel() % _ROW
        rows = flat[:whole].view(-1, _ROW)
        tail = flat[whole:].to(torch.float64)
        lo, hi = torch.aminmax(flat)
        sums, norms = torch.stack((rows.sum(dim=1), torch.linalg.vector_norm(rows, dim=1))).to(torch.float64)
        moments = torch.stack((lo.double(), hi.double(), sums.sum() + tail.sum(), norms.dot(norms) + tail.dot(tail)))
    else:  # float64 as it is; anything else converted chunk by chunk, each freed before the next
        if flat.dtype == torch.float64 or flat.numel() <= _CHUNK:
            chunks: Iterable[torch.Tensor] = (flat.to(torch.float64),)
        else:
            chunks = (c.to(torch.float64) for c in torch.split(flat, _CHUNK))
        parts = [torch.stack((*torch.aminmax(c), c.sum(), c.dot(c))) for c in chunks]
        moments = parts[0]
        if len(parts) > 1:
            each = torch.stack(parts)
            moments = torch.stack((each[:, 0].min(), each[:, 1].max(), each[:, 2].sum(), each[:, 3].sum()))
    lo_, hi_, s, q = moments.tolist()
    return lo_, hi_, s, q


def _summary(dtype: torch.dtype, lo: float, hi: float, mean: float, std: float | None, norm: float) -> TensorStats:
    if dtype == torch.float32:  # report what a float32 result would hold, as torch's reductions do
        lo, hi, mean, norm = _float32(lo), _float32(hi), _float32(mean), _float32(norm)
        std = None if std is None else _float32(std)
    return TensorStats(
        min=_finite(lo),
        max=_finite(hi),
        mean=_finite(mean),
        std=None if std is None else _finite(std),
        norm=_finite(norm),
        nan=0,
        inf=0,
    )


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _float32(v: float) -> float:
    """v rounded to float32; past float32's range, inf (which the payload then reports as null)."""
    if not math.isfinite(v):
        return v
    try:
        return float(_F32.unpack(_F32.pack(v))[0])
    except OverflowError:
        return math.copysign(math.inf, v)


_F32 = struct.Struct("f")


# --- the exact path -------------------------------------------------------------------------------


def exact_stats(tensors: Sequence[torch.Tensor]) -> list[TensorStats]:
    """Every statistic of every tensor, each by its own reduction on the tensor's device (NaN and
    inf counted), read back in one transfer."""
    small = [t for t in tensors if 0 < t.numel() <= _SEGMENT_MAX]
    large = [t for t in tensors if t.numel() > _SEGMENT_MAX]
    parts = ([_segment_rows(small)] if small else []) + [_tensor_row(t) for t in large]
    if not parts:
        return [EMPTY for _ in tensors]
    rows = torch.cat(parts).tolist()
    by_tensor = {id(t): row for t, row in zip([*small, *large], rows, strict=True)}
    out = []
    for t in tensors:
        if not t.numel():
            out.append(EMPTY)
            continue
        lo, hi, mean, std, norm, nan, inf = by_tensor[id(t)]
        if nan:  # as torch.aminmax does: a NaN anywhere makes every statistic NaN
            lo = hi = mean = std = norm = math.nan
        st = _summary(t.dtype, lo, hi, mean, std if t.numel() > 1 else None, norm)
        out.append(st.model_copy(update={"nan": int(nan), "inf": int(inf)}))
    return out


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
    # Accumulated in float64: a CPU's float32 vector_norm adds element after element (4e-4
    # relative error at 1M elements, where this path is the CPU's fallback).
    norm = torch.linalg.vector_norm(x, dtype=torch.float64)
    return torch.stack([lo, hi, mean, std, norm, x.isnan().sum(), x.isinf().sum()]).to(torch.float64)[None]

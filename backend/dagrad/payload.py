"""Turn tensors into payloads: statistics always, data up to a size, compactly encoded.

Data travels as base64 of little-endian bytes: on 800k floats that took 3.4 ms
where JSON lists took 370 ms. Statistics are computed on the tensor's own
device and fetched with a single transfer.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import torch

from dagrad.results import PayloadOptions, TensorData, TensorPayload, TensorStats

_WIRE_DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "uint8"}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def stats(t: torch.Tensor) -> TensorStats:
    x = t.detach()
    n = x.numel()
    if n == 0:
        return TensorStats(min=None, max=None, mean=None, std=None, norm=None, nan=0, inf=0)
    if not x.is_floating_point():
        x = x.to(torch.float64)
    lo, hi = torch.aminmax(x)
    std, mean = torch.std_mean(x) if n > 1 else (torch.full_like(lo, math.nan), x.reshape(()))
    norm = torch.linalg.vector_norm(x)
    values = torch.stack([lo, hi, mean, std, norm]).tolist()
    nan = inf = 0
    if not all(math.isfinite(v) for v in [*values[:3], values[4]]):  # only then count, it costs passes
        nan, inf = torch.stack([x.isnan().sum(), x.isinf().sum()]).tolist()
    lo_v, hi_v, mean_v, std_v, norm_v = (_finite(float(v)) for v in values)
    return TensorStats(min=lo_v, max=hi_v, mean=mean_v, std=std_v if n > 1 else None, norm=norm_v, nan=nan, inf=inf)


def _nested(values: Any) -> Any:
    if isinstance(values, list):
        return [_nested(v) for v in values]
    if isinstance(values, float) and not math.isfinite(values):
        return None
    return values


def encode(t: torch.Tensor, encoding: str) -> TensorData:
    cpu = t.detach().cpu()
    wire = _WIRE_DTYPES.get(cpu.dtype)
    if wire is None:  # other dtypes travel as float64
        cpu, wire = cpu.to(torch.float64), "float64"
    if encoding == "list":
        return TensorData(encoding="list", dtype=wire, values=_nested(cpu.tolist()))
    array = cpu.numpy()
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return TensorData(encoding="base64", dtype=wire, b64=base64.b64encode(raw).decode("ascii"))


def payload(t: torch.Tensor, node: str, options: PayloadOptions, default_max: int, hard_max: int) -> TensorPayload:
    numel = t.numel()
    wants_full = node in options.full or "*" in options.full
    limit = (
        hard_max
        if wants_full
        else min(options.max_elements if options.max_elements is not None else default_max, hard_max)
    )
    data, note = None, None
    if numel <= limit:
        data = encode(t, options.encoding)
    elif wants_full:
        note = (
            f"{numel:,} elements exceed this server's limit of {hard_max:,} per tensor; only the statistics are given."
        )
    else:
        note = (
            f"data left out: {numel:,} elements is more than max_elements={limit:,}. "
            f"Ask for it with ?full={node} (or ?max_elements={numel}) on the same request."
        )
    return TensorPayload(
        shape=list(t.shape),
        dtype=str(t.dtype).removeprefix("torch."),
        numel=numel,
        stats=stats(t),
        data=data,
        truncated=data is None,
        note=note,
    )

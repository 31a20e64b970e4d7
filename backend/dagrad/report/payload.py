"""Turn tensors into payloads: statistics always, data up to a size, compactly encoded.

Data travels as base64 of little-endian bytes, two orders of magnitude faster to make and to
read than JSON lists (bench/README.md); lists are there for people and scripts that want them.
Tensors on a GPU come to the host in one transfer per dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pybase64  # SIMD base64: several times the standard library's speed on tensor data
import torch

from dagrad.errors import dtype_name
from dagrad.report.stats import stats_of
from dagrad.results import PayloadOptions, TensorData, TensorPayload

_WIRE_DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "uint8"}
_WIRE_ITEMSIZE = {torch.float32: 4, torch.float64: 8, torch.int64: 8, torch.bool: 1}


def payloads(
    tensors: Sequence[tuple[torch.Tensor, str]], options: PayloadOptions, default_max: int, hard_max: int
) -> list[TensorPayload]:
    """Payloads of (tensor, node id) pairs: statistics always, data up to the size asked for
    (`default_max` unless the options say otherwise, never past `hard_max`). A tensor given twice
    with the same data limit (a gradient both kept and recorded in a backward step) is read once,
    and both get the one payload."""
    first: dict[tuple[int, int], int] = {}
    order = [
        first.setdefault((id(t), data_limit(node, options, default_max, hard_max)), i)
        for i, (t, node) in enumerate(tensors)
    ]
    if len(first) < len(tensors):
        unique = [tensors[i] for i in first.values()]
        made = payloads(unique, options, default_max, hard_max)
        at = {i: k for k, i in enumerate(first.values())}
        return [made[at[i]] for i in order]
    detached = [t.detach() for t, _ in tensors]
    all_stats = stats_of(detached)
    wants_full = [_wants_full(node, options) for _, node in tensors]
    limits = [data_limit(node, options, default_max, hard_max) for _, node in tensors]
    sent = [i for i, t in enumerate(detached) if t.numel() <= limits[i]]
    host = dict(zip(sent, _to_host([detached[i] for i in sent]), strict=True))
    result = []
    for i, ((t, node), st) in enumerate(zip(tensors, all_stats, strict=True)):
        data = encode(host[i], options.encoding) if i in host else None
        result.append(
            TensorPayload(
                shape=list(t.shape),
                dtype=dtype_name(t.dtype),
                numel=t.numel(),
                stats=st,
                data=data,
                truncated=data is None,
                note=None if data is not None else _note(node, t.numel(), limits[i], wants_full[i], hard_max),
            )
        )
    return result


def _wants_full(node: str, options: PayloadOptions) -> bool:
    return node in options.full or "*" in options.full


def data_limit(node: str, options: PayloadOptions, default_max: int, hard_max: int) -> int:
    """How many elements a tensor of `node` may have and still carry its data."""
    if _wants_full(node, options):
        return hard_max
    asked = default_max if options.max_elements is None else options.max_elements
    return min(asked, hard_max)


# The most bytes one payload takes in JSON besides its data (shape, statistics, note), and one
# element of data takes in each encoding: base64 is 4 characters per 3 bytes; a list element is at
# most a float's 24 characters ("-1.2345678901234567e-308") and its separator.
PAYLOAD_OVERHEAD_BYTES = 600
LIST_BYTES_PER_ELEMENT = 26


def payload_bytes(numel: int, dtype: torch.dtype, sends_data: bool, encoding: str) -> int:
    """An upper bound on the size of a tensor's payload in the response, known before it exists."""
    if not sends_data:
        return PAYLOAD_OVERHEAD_BYTES
    if encoding == "list":
        return PAYLOAD_OVERHEAD_BYTES + numel * LIST_BYTES_PER_ELEMENT
    itemsize = _WIRE_ITEMSIZE.get(dtype, 8)  # other dtypes travel as float64
    return PAYLOAD_OVERHEAD_BYTES + 4 * math.ceil(numel * itemsize / 3)


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


def _nested(values: Any) -> Any:
    if isinstance(values, list):
        return [_nested(v) for v in values]
    if isinstance(values, float) and not math.isfinite(values):
        return None
    return values


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

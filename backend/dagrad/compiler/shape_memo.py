"""The one cache of the engine: what shape inference found for an op, by exactly what decides it.

PyTorch's meta kernels for most ops are Python reference implementations, slow to call, while
an op's result metadata (shape, strides, dtype, requires_grad) is a pure function of the op, its
attributes and its inputs' metadata. A student editing a graph sends it again and again with
the same ops on the same shapes; the engine remembers those results (measured in bench/README.md).

The key holds every attribute exactly (`exact_key`: floats by their bytes, so NaN, inf, -inf,
0.0 and -0.0 are all apart; bools apart from ints) and every input's shape, strides, storage
offset, dtype, requires_grad, leafness and view-ness. Node ids and the seed are not in it: they
do not change a shape. Only plain fresh results are remembered: no views, nothing handed back
from the inputs (in-place ops) and no leaves, so an op whose result depends on more than the
key (autograd history, aliasing) always runs. A graph with an op that reads the autograd graph
(`OpDef.needs_autograd_graph`) uses no memo at all.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Hashable
from typing import Any

import torch
from pydantic import BaseModel

from dagrad.ops.registry import Attrs, Cost, OpDef

_Result = tuple[tuple[int, ...], tuple[int, ...], torch.dtype, bool, Cost]  # shape, stride, dtype, rg, cost


def exact_key(value: Any) -> Hashable:
    """A hashable key that two values share exactly when they are the same value."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, list | tuple):
        return ("list", tuple(exact_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), exact_key(v)) for k, v in value.items())))
    if isinstance(value, BaseModel):
        return (type(value).__qualname__, exact_key(value.model_dump()))
    raise TypeError(f"no exact key for a {type(value).__name__}")


def _tensor_key(value: Any) -> Hashable:
    if isinstance(value, list):
        return tuple(_tensor_key(v) for v in value)
    assert isinstance(value, torch.Tensor)
    return (
        tuple(value.shape),
        value.stride(),
        value.storage_offset(),
        value.dtype,
        value.requires_grad,
        value.is_leaf,
        value._is_view(),
    )


# What an entry takes besides its key's text: the dict slot, the result tuple, the key's objects.
ENTRY_OVERHEAD_BYTES = 1024


class ShapeMemo:
    """Shape inference results by exact signature, in at most `max_bytes` (each entry counted as
    its key's repr plus ENTRY_OVERHEAD_BYTES: an attribute such as a reshape's shape can be long);
    emptied when full."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._results: dict[Hashable, _Result] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(op: OpDef, attrs: Attrs, inputs: dict[str, Any]) -> Hashable:
        return (op.name, exact_key(attrs), tuple((port, _tensor_key(v)) for port, v in sorted(inputs.items())))

    def recall(self, key: Hashable) -> tuple[torch.Tensor, Cost] | None:
        """A meta tensor like the one the op made, and its estimated cost; None if unknown."""
        with self._lock:
            found = self._results.get(key)
        if found is None:
            return None
        shape, stride, dtype, requires_grad, cost = found
        out = torch.empty_strided(shape, stride, dtype=dtype, device="meta", requires_grad=requires_grad)
        if requires_grad:
            out = out.clone()  # a non-leaf, as the op's own result was (in-place checks depend on it)
            if out.stride() != stride:
                return None
        return out, cost

    def remember(self, key: Hashable, out: torch.Tensor, inputs: dict[str, Any], cost: Cost) -> None:
        given = [t for v in inputs.values() for t in (v if isinstance(v, list) else [v])]
        if out._is_view() or any(out is t for t in given) or (out.requires_grad and out.is_leaf):
            return
        size = len(repr(key)) + ENTRY_OVERHEAD_BYTES
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._results:
                return
            if self.bytes + size > self.max_bytes:
                self._results.clear()
                self.bytes = 0
            self._results[key] = (tuple(out.shape), out.stride(), out.dtype, out.requires_grad, cost)
            self.bytes += size

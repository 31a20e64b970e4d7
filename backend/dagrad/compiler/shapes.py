"""Steps 3 and 4 of a compile: the size limits of every tensor, then every node's shape, dtype
and requires_grad, by running its op on PyTorch's meta device (PyTorch's exact rules, no memory),
after the op's own friendlier checks."""

from __future__ import annotations

import math
from typing import Any

import torch

from dagrad.compiler.found import Found
from dagrad.compiler.shape_memo import ShapeMemo
from dagrad.compiler.structure import Checked
from dagrad.errors import OpError, dtype_name, fmt_shape
from dagrad.ops.registry import Attrs, Cost, OpDef
from dagrad.ops.sources import SourceAttrs
from dagrad.plan import TensorMeta, gather
from dagrad.settings import Settings


class ShapeInference:
    def __init__(self, run_dtype: str, settings: Settings, found: Found, memo: ShapeMemo | None) -> None:
        self.run_dtype = run_dtype
        self.settings = settings
        self.found = found
        self.memo = memo
        self.metas: dict[str, TensorMeta] = {}
        self.meta_values: dict[str, torch.Tensor] = {}  # meta-device tensors: shapes without memory
        self.costs: dict[str, Cost] = {}  # each node's own estimate (compiler/totals.py adds them up)

    def infer(self, order: list[str], checked: Checked) -> list[str]:
        """Infer each node in `order`; return those inferred, in order. A node whose input failed
        is skipped quietly: the error upstream is enough."""
        inferred = []
        for nid in order:
            if nid in self.found.broken or nid not in checked.attrs:
                continue
            edges = checked.edges[nid]
            if any(e.source in self.found.broken or e.source not in self.metas for e in edges):
                self.found.broken.add(nid)
                continue
            op, attrs = checked.ops[nid], checked.attrs[nid]
            meta = self.source(nid, op, attrs) if op.source else self.op(nid, op, attrs, checked)
            if meta is None:
                self.found.broken.add(nid)
                continue
            self.metas[nid] = TensorMeta(tuple(meta.shape), meta.dtype, meta.requires_grad, meta.is_leaf)
            self.meta_values[nid] = meta
            inferred.append(nid)
        return inferred

    def source(self, nid: str, op: OpDef, attrs: Attrs) -> torch.Tensor | None:
        assert isinstance(attrs, SourceAttrs)
        shape = list(attrs.shape or [])
        dtype = attrs.resolved_dtype(self.run_dtype)
        if not self.within_elements(nid, shape):
            return None
        if attrs.requires_grad and not dtype.is_floating_point:
            self.found.error(
                nid,
                "dtype",
                f"only floating point tensors can require gradients; this one is {dtype_name(dtype)}. "
                "Set dtype to float32/float64 (or null), or set requires_grad to false.",
                attribute="requires_grad",
            )
            return None
        meta = torch.empty(shape, dtype=dtype, device="meta", requires_grad=attrs.requires_grad)
        self.costs[nid] = op.estimate({}, meta, attrs)
        return meta

    def within_elements(self, nid: str, shape: list[int] | tuple[int, ...], what: str = "this tensor") -> bool:
        numel = math.prod(shape)
        if numel > self.settings.max_tensor_elements:
            self.found.error(
                nid,
                "limit",
                f"{what} would have shape {fmt_shape(shape)} = {numel:,} elements; this server allows "
                f"{self.settings.max_tensor_elements:,} per tensor. Use smaller sizes.",
            )
            return False
        return True

    def op(self, nid: str, op: OpDef, attrs: Attrs, checked: Checked) -> torch.Tensor | None:
        inputs: dict[str, Any] = gather(checked.edges[nid], lambda e: self.meta_values[e.source])
        problems = op.check(inputs, attrs) if op.check else []
        for p in problems:
            self.found.error(nid, p.code, p.message, port=p.port, attribute=p.attribute)
        if problems:
            return None
        memo = self.memo
        key = memo.key(op, attrs, inputs) if memo is not None else None
        remembered = memo.recall(key) if memo is not None else None
        if remembered is not None:
            out, cost = remembered
            if not self.within_elements(nid, out.shape, "its result"):
                return None
            self.costs[nid] = cost
            return out
        try:
            with torch.enable_grad():
                out = op.call(inputs, attrs)
        except OpError as exc:
            self.found.error(nid, exc.code, str(exc), port=exc.port)
            return None
        except Exception as exc:  # PyTorch's verdict, located and given the shapes involved
            shapes = ", ".join(f"{port} {_shape_text(v)}" for port, v in inputs.items() if v is not None)
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.found.error(nid, "shape", f"{op.name} rejects its inputs ({shapes}): {first_line}")
            return None
        if not isinstance(out, torch.Tensor):
            self.found.error(nid, "runtime", f"{op.name} did not produce a tensor.")
            return None
        if not self.within_elements(nid, out.shape, "its result"):
            return None
        cost = op.estimate(inputs, out, attrs)
        self.costs[nid] = cost
        if memo is not None:
            memo.remember(key, out, inputs, cost)
        return out


def _shape_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(fmt_shape(t.shape) for t in value) + "]"
    return f"{fmt_shape(value.shape)} {dtype_name(value.dtype)}"

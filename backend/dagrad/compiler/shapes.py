"""Steps 3 and 4 of a compile: the size limits of every tensor, then every node's shape, dtype
and requires_grad, by running its op on PyTorch's meta device (PyTorch's exact rules, no memory),
after the op's own friendlier checks."""

from __future__ import annotations

import math
from typing import Any

import torch

from dagrad.autograd import Makers
from dagrad.compiler.found import Found
from dagrad.compiler.kernels import kernel_problem
from dagrad.compiler.shape_memo import ShapeMemo
from dagrad.compiler.structure import Checked
from dagrad.errors import OpError, dtype_name, fmt_shape
from dagrad.ops.literals import MAX_DIMS
from dagrad.ops.registry import Attrs, Cost, KnownValues, OpDef, RunContext, mutates
from dagrad.ops.source_checks import SourceCheck, check_source
from dagrad.ops.sources import SourceAttrs
from dagrad.plan import Edge, TensorMeta, gather
from dagrad.settings import Settings


class ShapeInference:
    def __init__(
        self,
        run_dtype: str,
        settings: Settings,
        found: Found,
        memo: ShapeMemo | None,
        device: torch.device | None = None,
        training: bool = True,
    ) -> None:
        self.run_dtype = run_dtype
        # Ops that use the run (batch_norm, dropout) are tried as the run will call them.
        self.context = RunContext(training=training)
        self.device = device or torch.device("cpu")  # whose kernels must take each op's dtypes
        self.settings = settings
        self.found = found
        self.memo = memo
        self.metas: dict[str, TensorMeta] = {}
        self.meta_values: dict[str, torch.Tensor] = {}  # meta-device tensors: shapes without memory
        self.costs: dict[str, Cost] = {}  # each node's own estimate (compiler/totals.py adds them up)
        # Nodes whose op hands back one of its inputs itself, unchanged (flatten of a 1-D tensor):
        # the input edge. PyTorch's result is then that very tensor (a leaf stays a leaf).
        self.same_as: dict[str, Edge] = {}
        # Autograd's names for the op that made each value, as made (an in-place op changes it later).
        self.makers = Makers()  # for the backward rehearsal's errors (backward.py)
        self.sources: dict[str, SourceCheck] = {}  # what is known of sources' values (ops/source_checks.py)

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
            self.makers.note(nid, meta)
            inferred.append(nid)
        return inferred

    def source(self, nid: str, op: OpDef, attrs: Attrs) -> torch.Tensor | None:
        assert isinstance(attrs, SourceAttrs)
        shape = list(attrs.shape or [])
        dtype = attrs.resolved_dtype(self.run_dtype)
        if not self.within_limits(nid, shape, attribute="shape"):
            return None
        checked = check_source(attrs, dtype)
        for attribute, message in checked.problems:
            self.found.error(nid, "bad_attribute", message, attribute=attribute)
        if attrs.requires_grad and not dtype.is_floating_point:
            self.found.error(
                nid,
                "dtype",
                f"only floating point tensors can require gradients; this one is {dtype_name(dtype)}. "
                "Set dtype to float32/float64 (or null), or set requires_grad to false.",
                attribute="requires_grad",
            )
            return None
        if checked.problems:
            return None
        self.sources[nid] = checked
        meta = torch.empty(shape, dtype=dtype, device="meta", requires_grad=attrs.requires_grad)
        self.costs[nid] = op.estimate({}, meta, attrs)
        return meta

    def within_limits(
        self, nid: str, shape: list[int] | tuple[int, ...], what: str = "this tensor", attribute: str | None = None
    ) -> bool:
        """At most MAX_DIMS dimensions and max_tensor_elements elements; an empty tensor's other
        sizes too (PyTorch lays out its strides as if each 0 were 1, and they overflow)."""
        limit = self.settings.max_tensor_elements
        if len(shape) > MAX_DIMS:
            self.found.error(
                nid,
                "limit",
                f"{what} would have {len(shape)} dimensions; a tensor may have at most {MAX_DIMS}. Use fewer.",
                attribute=attribute,
            )
            return False
        numel, span = math.prod(shape), math.prod(max(d, 1) for d in shape)
        if span > limit:
            counted = f"= {numel:,} elements" if numel else f"(empty, but its other sizes multiply to {span:,})"
            self.found.error(
                nid,
                "limit",
                f"{what} would have shape {fmt_shape(shape)} {counted}; this server allows {limit:,} "
                "per tensor. Use smaller sizes.",
                attribute=attribute,
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
        # The device in the key too: a result is remembered once the device's kernel took it (runs());
        # and grad mode, which decides whether the result requires grad.
        no_grad = nid in checked.no_grad
        # And train/eval mode for an op that reads it (batch_norm refuses one value per channel only in training).
        mode = self.context.training if op.uses_run else None
        key = (self.device.type, no_grad, mode, memo.key(op, attrs, inputs)) if memo is not None else None
        remembered = memo.recall(key) if memo is not None else None
        if remembered is not None:
            out, cost = remembered
            if not self.within_limits(nid, out.shape, "its result") or not self.values_fit(nid, op, attrs, checked):
                return None
            self.costs[nid] = cost
            return out
        try:
            with torch.set_grad_enabled(not no_grad):
                out = op.call(inputs, attrs, self.context)
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
        if not self.within_limits(nid, out.shape, "its result") or not self.runs(nid, op, attrs, inputs, checked):
            return None
        cost = op.estimate(inputs, out, attrs)
        self.costs[nid] = cost
        if not mutates(attrs):  # an in-place op hands back its input too, but changed
            same = [e for e in checked.edges[nid] if e.index is None and self.meta_values[e.source] is out]
            if same:
                self.same_as[nid] = same[0]
        if memo is not None:
            memo.remember(key, out, inputs, cost)
        return out

    def runs(self, nid: str, op: OpDef, attrs: Attrs, inputs: dict[str, Any], checked: Checked) -> bool:
        """What the meta kernel cannot tell: that the device's kernel takes these dtypes, and the
        op's conditions on values known before the run."""
        problem = kernel_problem(op, inputs, attrs, self.device)
        if problem is not None:
            self.found.error(nid, "dtype", problem)
            return False
        return self.values_fit(nid, op, attrs, checked)

    def values_fit(self, nid: str, op: OpDef, attrs: Attrs, checked: Checked) -> bool:
        """The op's conditions on values (once shapes are known good), on the ports fed by a
        source, whose values are known before the run."""
        if op.check_values is None:
            return True
        edges = checked.edges[nid]
        inputs: dict[str, Any] = gather(edges, lambda e: self.meta_values[e.source])
        known: dict[str, KnownValues] = {}
        for e in edges:
            values = self.sources[e.source].known() if e.index is None and e.source in self.sources else None
            if values is not None:
                known[e.port] = values
        problems = op.check_values(inputs, known, attrs) if known else []
        for p in problems:
            self.found.error(nid, p.code, p.message, port=p.port, attribute=p.attribute)
        return not problems


def _shape_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(fmt_shape(t.shape) for t in value) + "]"
    return f"{fmt_shape(value.shape)} {dtype_name(value.dtype)}"

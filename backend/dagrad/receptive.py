"""The receptive field of one element of one node's value, on every node upstream of it.

    receptive_field(graph, settings, node, index) -> ReceptiveFieldResponse

Two answers per upstream tensor, which differ where the data decides:

- structural: the elements that can influence the clicked element whatever the data. Each op's
  `receptive` rule (ops/receptive_rules.py) maps a mask over its output back to its inputs; the
  masks are chained from the clicked element to the sources, ORed where paths meet. An op without
  a rule makes the field unknown on everything only reachable through it: nothing is guessed.
- gradient: where the gradient of the clicked element is non-zero for this run's data, by
  torch.autograd.grad of that one element (a one-hot grad_outputs) with respect to every upstream
  tensor. Sources that do not require grad (the input image) are given a gradient for this, so
  that the field shows on the input too; values are those evaluate computes. A relu that is off,
  or a max pooling's window routing to its one maximum, is where this is smaller than the
  structural field.
"""

from __future__ import annotations

import base64
import math
import time

import numpy as np
import torch

from dagrad.compiler import ShapeMemo, compile_graph
from dagrad.errors import ErrorCode, GraphError, GraphErrors, fmt_shape
from dagrad.graph_format import Graph
from dagrad.interpreter import Interpreter
from dagrad.plan import Plan, PlannedNode
from dagrad.results import FieldMask, ReceptiveFieldResponse, UpstreamField
from dagrad.settings import Settings


def _refuse(node: str | None, message: str, code: ErrorCode = "value") -> GraphErrors:
    return GraphErrors([GraphError(node=node, code=code, message=message)])


def forward_only(graph: Graph) -> Graph:
    """The graph without its backward: the field runs its own, from one element."""
    run = graph.run.model_copy(
        update={"output": None, "wrt": None, "grad_output": None, "backward_passes": 1, "retain_graph": None}
    )
    return graph.model_copy(update={"run": run})


def ancestors(plan: Plan, nid: str) -> list[PlannedNode]:
    """Every node upstream of `nid`, in plan order."""
    by_id = {n.id: n for n in plan.order}
    seen: set[str] = set()
    todo = [nid]
    while todo:
        for edge in by_id[todo.pop()].inputs:
            if edge.source not in seen:
                seen.add(edge.source)
                todo.append(edge.source)
    return [n for n in plan.order if n.id in seen]


def check_index(node: PlannedNode, index: list[int]) -> None:
    shape = node.meta.shape
    where = f"{node.id}'s value has shape {fmt_shape(shape)}"
    if len(index) != len(shape):
        raise _refuse(
            node.id, f"index {index} has {len(index)} numbers; {where}: give {len(shape)}, one per dimension."
        )
    for dim, (i, n) in enumerate(zip(index, shape, strict=True)):
        if not 0 <= i < n:
            raise _refuse(node.id, f"index {index} is out of range: {where}, so dimension {dim} takes 0 to {n - 1}.")


def structural(plan: Plan, clicked: PlannedNode, index: list[int]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Each upstream node's structural mask, and for those it is unknown on, why."""
    masks: dict[str, torch.Tensor] = {}
    unknown: dict[str, str] = {}
    start = torch.zeros(clicked.meta.shape, dtype=torch.bool)
    start[tuple(index)] = True
    masks[clicked.id] = start
    metas = {n.id: n.meta for n in plan.order}
    for node in reversed(plan.order):
        if node.id not in masks and node.id not in unknown:
            continue
        if node.id in unknown or node.op.receptive is None:
            why = unknown.get(node.id) or f"{node.id} ({node.op.name}) has no receptive rule"
            for a in ancestors(plan, node.id):
                unknown.setdefault(a.id, why)
            continue
        shapes: dict[str, tuple[int, ...] | list[tuple[int, ...]] | None] = {p.name: None for p in node.op.ports}
        for edge in node.inputs:
            shape = metas[edge.source].shape
            if edge.index is None:
                shapes[edge.port] = shape
            else:
                listed = shapes[edge.port]
                shapes[edge.port] = [*(listed if isinstance(listed, list) else []), shape]
        found = node.op.receptive.code(shapes, masks[node.id], node.attrs, node.op.call)
        for edge in node.inputs:
            got = found.get(edge.port)
            mask = got[edge.index or 0] if isinstance(got, list) else got
            if mask is None:
                continue
            before = masks.get(edge.source)
            masks[edge.source] = mask if before is None else before | mask
    return masks, unknown


class _Leafy(Interpreter):
    """A forward run in which every floating point source requires grad, so that the clicked
    element's gradient reaches the inputs too (their values unchanged)."""

    def make_source(self, node: PlannedNode) -> torch.Tensor:
        t = super().make_source(node)
        if t.is_floating_point() and not t.requires_grad:
            t = t.detach().requires_grad_().clone()  # not a leaf: an in-place op may still write it
        return t


def gradient(
    plan: Plan, clicked: PlannedNode, index: list[int], upstream: list[PlannedNode], settings: Settings
) -> tuple[dict[str, torch.Tensor], dict[str, str], float | None]:
    """Where d(value[index]) / d(upstream tensor) is non-zero; why, where there is no gradient."""
    values = _Leafy(plan, settings.max_run_seconds).run().values
    element = values[clicked.id][tuple(index)]
    value = float(element.detach())
    value_out = value if math.isfinite(value) else None
    notes: dict[str, str] = {}
    if not element.requires_grad:
        why = f"{clicked.id}'s value does not require grad (an int64 tensor, detach or no_grad): no gradient flows"
        return {}, {n.id: why for n in upstream}, value_out
    wrt = []
    for n in upstream:
        v = values[n.id]
        if v.requires_grad:
            wrt.append(n)
        else:
            notes[n.id] = f"{n.id}'s value does not require grad ({str(v.dtype).removeprefix('torch.')})"
    grads = torch.autograd.grad(element, [values[n.id] for n in wrt], allow_unused=True)
    masks: dict[str, torch.Tensor] = {}
    for n, g in zip(wrt, grads, strict=True):
        masks[n.id] = torch.zeros(n.meta.shape, dtype=torch.bool) if g is None else (g != 0).cpu()
    return masks, notes, value_out


def encode_mask(mask: torch.Tensor) -> FieldMask:
    flat = mask.reshape(-1).numpy()
    count = int(flat.sum())
    extent = None
    if count:
        where = mask.nonzero()
        extent = [[int(lo), int(hi)] for lo, hi in zip(where.min(0).values, where.max(0).values, strict=True)]
    bits = base64.b64encode(np.packbits(flat, bitorder="little").tobytes()).decode()
    return FieldMask(count=count, extent=extent, bits=bits)


def receptive_field(
    graph: Graph, settings: Settings, node: str, index: list[int], memo: ShapeMemo | None = None
) -> ReceptiveFieldResponse:
    start = time.perf_counter()
    plan = compile_graph(forward_only(graph), settings, memo)
    clicked = plan.nodes.get(node)
    if clicked is None:
        known = ", ".join(n.id for n in plan.order[:8])
        raise _refuse(
            None, f"there is no node {node!r} in this graph; click one of its nodes ({known}...).", "not_found"
        )
    check_index(clicked, index)
    upstream = ancestors(plan, clicked.id)
    if not upstream:
        raise _refuse(
            clicked.id,
            f"{clicked.id} is a {clicked.op.name} with no inputs: nothing lies upstream of it. "
            "Click an element of a node that an op computes from others.",
        )
    elements = sum(math.prod(n.meta.shape) for n in upstream)
    if elements > settings.max_field_elements:
        raise _refuse(
            clicked.id,
            f"the {len(upstream)} nodes upstream of {clicked.id} hold {elements:,} elements, over this server's "
            f"limit of {settings.max_field_elements:,} for a receptive field (max_field_elements): use smaller "
            "tensors (a smaller batch) or click a node nearer the inputs.",
            "limit",
        )
    masks, unknown = structural(plan, clicked, index)
    grads, notes, value = gradient(plan, clicked, index, upstream, settings)
    fields = []
    for n in upstream:
        s = masks.get(n.id)
        fields.append(
            UpstreamField(
                node=n.id,
                shape=list(n.meta.shape),
                structural=None if n.id in unknown or s is None else encode_mask(s),
                structural_note=f"unknown: {unknown[n.id]}" if n.id in unknown else None,
                gradient=encode_mask(grads[n.id]) if n.id in grads else None,
                gradient_note=notes.get(n.id),
            )
        )
    return ReceptiveFieldResponse(
        node=clicked.id,
        index=index,
        shape=list(clicked.meta.shape),
        value=value,
        fields=fields,
        seconds=time.perf_counter() - start,
    )

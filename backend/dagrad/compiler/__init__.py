"""Compile a graph document into an immutable, validated `Plan`, before anything is allocated.

The steps, each adding located errors to one list (`Found`) so a client sees them all:
  1. structure: ids, ops, attributes, ports, references, the run settings; the wiring
     becomes edges (structure.py);
  2. the order, every cycle named (order.py);
  3-4. the size of every tensor, then every shape, dtype and requires_grad, on PyTorch's meta
     device (shapes.py, with the engine's ShapeMemo when it has one: shape_memo.py);
  5. the backward settings and the limits of the whole run (totals.py); for a graph with an
     in-place op, backward itself, on the meta device (backward.py).
"""

from __future__ import annotations

from types import MappingProxyType

import torch

from dagrad.autograd import writers
from dagrad.compiler.backward import rehearse_backward
from dagrad.compiler.found import CompileErrors, Found
from dagrad.compiler.order import topological_order
from dagrad.compiler.shape_memo import ShapeMemo
from dagrad.compiler.shapes import ShapeInference
from dagrad.compiler.structure import check_structure
from dagrad.compiler.totals import check_backward, check_totals, estimate_bytes, estimate_flops, node_costs
from dagrad.graph_format import Graph
from dagrad.ops.registry import mutates
from dagrad.plan import Edge, Plan, PlannedNode
from dagrad.settings import Settings

__all__ = ["CompileErrors", "ShapeMemo", "compile_graph", "resolve_device"]

RUN_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(requested: str) -> torch.device | None:
    """'auto' is cuda where available; None means 'cuda' was asked for and there is none."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        return None
    return torch.device(requested)


def compile_graph(graph: Graph, settings: Settings, memo: ShapeMemo | None = None, rehearse: bool = True) -> Plan:
    """Validate `graph` and return its plan, or raise `CompileErrors` listing every problem.
    rehearse=False leaves backward unrehearsed: for a run that is to fail in backward as PyTorch
    fails, to show the autograd graph as the failing pass found it (Engine.evaluate)."""
    found = Found()
    checked = check_structure(graph, settings, found)
    device = resolve_device(graph.run.device)
    if device is None:
        found.error(None, "device", "run.device is 'cuda' but this server has no GPU; use 'cpu' or 'auto'.")
    order = topological_order(checked.edges, found)
    # An op that reads the autograd graph needs the real meta results of everything before it;
    # so does a backward rehearsed because an in-place op may overwrite what it needs, or a pass
    # may need what the one before freed (backward.py).
    run = graph.run
    frees = run.retain_graph is False and run.backward_passes > 1  # a second pass through a freed graph
    rehearse = rehearse and run.output is not None and (frees or any(mutates(a) for a in checked.attrs.values()))
    if rehearse or any(op.needs_autograd_graph for op in checked.ops.values()):
        memo = None
    shapes = ShapeInference(graph.run.dtype, settings, found, memo, device, graph.run.training)
    inferred = shapes.infer(order, checked)
    check_backward(graph.run, shapes.metas, found)
    backward_fails = False
    if rehearse and not found.errors:
        inplace = writers(
            (nid, checked.attrs[nid], ((e.port, e.source) for e in checked.edges[nid])) for nid in inferred
        )
        backward_fails = rehearse_backward(graph.run, shapes.meta_values, shapes.makers, inplace, found)
    rehearsed = len(found.errors)
    costs = node_costs(inferred, checked.ops, checked.edges, shapes.costs, shapes.metas)
    total = estimate_bytes(graph.run, shapes.metas, costs)
    flops = estimate_flops(graph.run, checked.edges, costs, shapes.metas)
    check_totals(shapes.metas, total, flops, settings, found)
    if found.errors:
        # Only backward failed: the run may go, to fail as PyTorch fails (rehearse=False)
        only_backward = backward_fails and len(found.errors) == rehearsed
        raise CompileErrors(found.errors, shapes.metas, only_backward)
    assert device is not None

    users: dict[str, list[Edge]] = {nid: [] for nid in inferred}
    for nid in inferred:
        for edge in checked.edges[nid]:
            users[edge.source].append(edge)
    nodes = tuple(
        PlannedNode(
            nid,
            checked.ops[nid],
            checked.attrs[nid],
            shapes.metas[nid],
            checked.edges[nid],
            tuple(users[nid]),
            shapes.same_as.get(nid),
            nid in checked.no_grad,
        )
        for nid in inferred
    )
    return Plan(
        run=graph.run,
        device=device,
        dtype=RUN_DTYPES[graph.run.dtype],
        order=nodes,
        shared=MappingProxyType(_shared(nodes)),
        estimated_bytes=total,
        estimated_flops=flops,
        costs=MappingProxyType(costs),
        checks=tuple(graph.meta.checks),
    )


def _shared(nodes: tuple[PlannedNode, ...]) -> dict[str, tuple[Edge, ...]]:
    """Weight sharing: nodes that require grad and feed two or more uses that send a gradient
    back (OpDef.sends_grad, outside a no_grad region). A node that is the same tensor as its input
    (same_as) is no use of its own: the uses of it are uses of that input."""
    by_id = {n.id: n for n in nodes}

    def uses(node: PlannedNode) -> list[Edge]:
        found = []
        for e in node.users:
            consumer = by_id[e.consumer]
            if consumer.same_as == e:
                found += uses(consumer)
            elif consumer.op.sends_grad(e.port) and not consumer.no_grad:  # no_grad: autograd records nothing
                found.append(e)
        return found

    shared = {}
    for node in nodes:
        if node.same_as is None and node.meta.requires_grad and len(found := uses(node)) > 1:
            shared[node.id] = tuple(found)
    return shared

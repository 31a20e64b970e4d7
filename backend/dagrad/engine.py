"""The engine's two entry points, shared by the REST API, the CLI and scripts.

validate(graph)  -> shapes and errors, nothing allocated
evaluate(graph)  -> every node's value and gradient
"""

from __future__ import annotations

import time

import torch

from dagrad.admission import free_slot, run_slot
from dagrad.compiler import compile_graph, dtype_name
from dagrad.graph_format import Graph, Run
from dagrad.interpreter import Interpreter, RunResult
from dagrad.payload import EarlyStats, payloads
from dagrad.plan import Plan, TensorMeta
from dagrad.results import (
    EvaluateResponse,
    GradContribution,
    NodeMeta,
    NodeResult,
    PayloadOptions,
    RunInfo,
    SharedNode,
    TensorStats,
    Timings,
    Use,
    ValidateResponse,
)
from dagrad.settings import Settings, get_settings


def node_meta(meta: TensorMeta) -> NodeMeta:
    return NodeMeta(
        shape=list(meta.shape), dtype=dtype_name(meta.dtype), requires_grad=meta.requires_grad, is_leaf=meta.is_leaf
    )


def validate(graph: Graph, settings: Settings | None = None) -> ValidateResponse:
    plan = compile_graph(graph, settings or get_settings())
    return ValidateResponse(
        order=[n.id for n in plan.order],
        nodes={n.id: node_meta(n.meta) for n in plan.order},
        shared=[
            SharedNode(id=nid, uses=[Use(consumer=e.consumer, port=e.port) for e in edges])
            for nid, edges in sorted(plan.shared.items())
        ],
        estimated_bytes=plan.estimated_bytes,
        estimated_flops=plan.estimated_flops,
    )


def evaluate(graph: Graph, options: PayloadOptions | None = None, settings: Settings | None = None) -> EvaluateResponse:
    settings = settings or get_settings()
    plan, compile_s = _compiled(graph, settings)
    with run_slot(settings):  # tensors exist only inside: the slot bounds the server's memory
        return _run(plan, options or PayloadOptions(), settings, compile_s)


def small(graph: Graph, settings: Settings) -> bool:
    """Whether a graph is small enough to compile on a server's event loop (see inline_max_nodes)."""
    return len(graph.nodes) <= settings.inline_max_nodes


def evaluate_if_small(graph: Graph, options: PayloadOptions, settings: Settings) -> EvaluateResponse | None:
    """evaluate(), on the calling thread, when the graph is small and cheap and a run slot is free
    now; else None, and nothing run. The server calls it on its event loop: for a graph like the
    course's 4.1 DAG, the hop to a worker thread and back costs more than the run. A graph with
    errors raises them here, as evaluate() does."""
    if not small(graph, settings):
        return None
    plan, compile_s = _compiled(graph, settings)
    if plan.estimated_flops > settings.inline_max_flops or plan.estimated_bytes > settings.inline_max_bytes:
        return None
    with free_slot(settings) as got:
        return _run(plan, options, settings, compile_s) if got else None


def _compiled(graph: Graph, settings: Settings) -> tuple[Plan, float]:
    """The graph's plan, and the seconds compiling it took."""
    start = time.perf_counter()
    plan = compile_graph(graph, settings)
    return plan, time.perf_counter() - start


def _run(plan: Plan, options: PayloadOptions, settings: Settings, compile_s: float) -> EvaluateResponse:
    """Run a compiled plan and build the response; the caller holds a run slot."""
    early = EarlyStats()
    result = Interpreter(plan, settings.max_run_seconds, early).run()
    encode_start = time.perf_counter()
    nodes = _node_results(plan, result, options, settings, early)
    timings = Timings(
        compile_ms=compile_s * 1e3,
        forward_ms=result.forward_s * 1e3,
        backward_ms=result.backward_s * 1e3,
        encode_ms=(time.perf_counter() - encode_start) * 1e3,
    )
    del result  # free the tensors before the slot is given back
    early.clear()
    return EvaluateResponse(run=_run_info(plan), order=[n.id for n in plan.order], nodes=nodes, timings=timings)


def backward_call(run: Run) -> str | None:
    """The backward call a run makes, written as PyTorch code."""
    if run.output is None:
        return None
    target = f"{run.output}.sum()" if run.grad_output == "sum" else run.output
    args = [f"torch.ones_like({run.output})"] if run.grad_output == "ones" else []
    if run.wrt is not None:
        args.append("inputs=[" + ", ".join(run.wrt) + "]")
    times = f" × {run.backward_passes}" if run.backward_passes > 1 else ""
    return f"{target}.backward({', '.join(args)}){times}"


def _run_info(plan: Plan) -> RunInfo:
    run = plan.run
    return RunInfo(
        seed=run.seed,
        device=str(plan.device),
        dtype=dtype_name(plan.dtype),
        output=run.output,
        wrt=run.wrt,
        grad_output=run.grad_output,
        backward_passes=run.backward_passes,
        backward=backward_call(run),
    )


def _grad_of(nid: str, t: torch.Tensor, result: RunResult) -> torch.Tensor | None:
    # A leaf's gradient is its .grad; a non-leaf's was kept by a hook (see Interpreter.backward).
    return t.grad if t.is_leaf else result.grads.get(nid)


def _grad_note(plan: Plan, nid: str, t: torch.Tensor, result: RunResult) -> str | None:
    run = plan.run
    if not result.backward_ran:
        return "no backward was run: set run.output to the node to differentiate."
    if not t.requires_grad:
        return "does not require grad, so backward gives it no gradient."
    if run.wrt is not None and nid not in run.wrt:
        return "not in run.wrt, so its gradient was not kept."
    return f"not reached by backward from {run.output!r}: {run.output} does not depend on it."


def _node_results(
    plan: Plan, result: RunResult, options: PayloadOptions, settings: Settings, early: EarlyStats | None = None
) -> dict[str, NodeResult]:
    # Every tensor to report, gathered first: payloads() then fetches them from the device at once.
    grads: dict[str, torch.Tensor | None] = {}
    for node in plan.order:
        t = result.env[node.id]
        kept = plan.run.wrt is None or node.id in plan.run.wrt
        grads[node.id] = _grad_of(node.id, t, result) if result.backward_ran and kept else None
    # Ordered so that each tensor is summarised soon after it was written, while it may still be
    # in the CPU's cache: gradients in forward order (backward writes the first layers last),
    # then values from the last computed back.
    keys: list[tuple[str, str | int]] = [("grad", n.id) for n in plan.order if grads[n.id] is not None]
    contributions = list(result.contributions.items())
    keys += [("share", i) for i, (_, g) in enumerate(contributions) if g is not None]
    keys += [("value", n.id) for n in reversed(plan.order)]

    def tensor_of(key: tuple[str, str | int]) -> tuple[torch.Tensor, str]:
        kind, ref = key
        if kind == "share":
            edge, g = contributions[int(ref)]
            assert g is not None
            return g, edge.source
        t = grads[str(ref)] if kind == "grad" else result.env[str(ref)]
        assert t is not None
        return t, str(ref)

    def known(key: tuple[str, str | int], t: torch.Tensor) -> TensorStats | None:
        if early is None or key[0] == "share":
            return None
        return (early.values if key[0] == "value" else early.grads).of(t)

    wanted = [tensor_of(k) for k in keys]
    limits = (settings.default_payload_elements, settings.max_payload_elements)
    found = [known(k, t) for k, (t, _) in zip(keys, wanted, strict=True)]
    made = dict(zip(keys, payloads(wanted, options, *limits, known=found), strict=True))

    nodes: dict[str, NodeResult] = {}
    for node in plan.order:
        t = result.env[node.id]
        g = grads[node.id]
        nodes[node.id] = NodeResult(
            id=node.id,
            op=node.op.name,
            shape=list(t.shape),
            dtype=dtype_name(t.dtype),
            device=str(t.device),
            requires_grad=t.requires_grad,
            is_leaf=t.is_leaf,
            grad_fn=None if t.grad_fn is None else type(t.grad_fn).__name__,
            value=made["value", node.id],
            grad=None if g is None else made["grad", node.id],
            grad_note=None if g is not None else _grad_note(plan, node.id, t, result),
        )
    for i, (edge, g) in enumerate(contributions):
        share = GradContribution(consumer=edge.consumer, port=edge.port, grad=None if g is None else made["share", i])
        shared = nodes[edge.source]
        shared.contributions = [*(shared.contributions or []), share]
    return nodes

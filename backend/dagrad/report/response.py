"""The API's answers, made from a plan and what the interpreter kept: every node's metadata,
value and gradient, and the run as it was executed."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch

from dagrad.errors import GraphError, GraphErrors, dtype_name
from dagrad.graph_format import Run
from dagrad.interpreter import RunResult
from dagrad.ops.windows import windows_of
from dagrad.plan import Plan, TensorMeta
from dagrad.report.checks import check_results
from dagrad.report.payload import data_limit, payload_bytes, payloads
from dagrad.results import (
    BackwardStep,
    EvaluateResponse,
    GradContribution,
    NodeMeta,
    NodeResult,
    PayloadOptions,
    RunInfo,
    SharedNode,
    TensorPayload,
    Timings,
    Use,
    ValidateResponse,
    WindowInfo,
)
from dagrad.settings import Settings

NODE_OVERHEAD_BYTES = 400  # a node's fields besides its payloads: id, op, shape, grad_fn, note
# The backward graph, generously: an op creates one to three autograd nodes (linear two), each
# about 100 bytes and about as much again per saved tensor (batch_norm saves five); a grad node
# that records its derivative's graph may replicate what lies upstream of it, about three times.
AUTOGRAD_NODES_PER_OP = 3
AUTOGRAD_NODE_BYTES = 400
CHECK_BYTES = 600  # one check's verdict: node, numbers and a sentence
# A recorded backward step besides its payloads (pass, node, the list brackets), and one sent
# gradient besides its payload (to, slot).
STEP_OVERHEAD_BYTES = 120
SENT_OVERHEAD_BYTES = 40


def node_meta(meta: TensorMeta) -> NodeMeta:
    return NodeMeta(
        shape=list(meta.shape), dtype=dtype_name(meta.dtype), requires_grad=meta.requires_grad, is_leaf=meta.is_leaf
    )


def validate_response(plan: Plan) -> ValidateResponse:
    return ValidateResponse(
        order=[n.id for n in plan.order],
        nodes={n.id: node_meta(n.meta) for n in plan.order},
        shared=[
            SharedNode(id=nid, uses=[Use(consumer=e.consumer, port=e.slot) for e in uses])
            for nid, uses in sorted(plan.shared.items())
        ],
        estimated_bytes=plan.estimated_bytes,
        estimated_flops=plan.estimated_flops,
        windows=node_windows(plan),
    )


def node_windows(plan: Plan) -> dict[str, list[WindowInfo]]:
    """Each conv and pool node's output-size arithmetic, from its input's and weight's shapes."""
    metas = {n.id: n.meta for n in plan.order}
    found: dict[str, list[WindowInfo]] = {}
    for n in plan.order:
        shapes = {e.port: metas[e.source].shape for e in n.inputs}
        if "input" not in shapes:
            continue
        dims = windows_of(n.op.name, n.attrs, shapes["input"], shapes.get("weight"), n.meta.shape)
        if dims:
            found[n.id] = [
                WindowInfo(
                    size_in=d.size_in,
                    padding=d.padding,
                    dilation=d.dilation,
                    kernel=d.kernel,
                    effective=d.effective,
                    stride=d.stride,
                    size_out=d.size_out,
                    ceil_mode=d.ceil_mode,
                    formula=d.formula,
                )
                for d in dims
            ]
    return found


def response_bytes(plan: Plan, options: PayloadOptions, settings: Settings) -> int:
    """An upper bound on the size of evaluate's answer, from the plan alone: every value, a
    gradient for every node that may get one, and one per use of a shared node."""
    run = plan.run
    limits = (settings.default_payload_elements, settings.max_payload_elements)
    total = 0
    for node in plan.order:
        meta = node.meta
        numel = math.prod(meta.shape)
        one = payload_bytes(numel, meta.dtype, numel <= data_limit(node.id, options, *limits), options.encoding)
        grads = 0
        if run.output is not None and meta.requires_grad and (run.wrt is None or node.id in run.wrt):
            grads = 1 + len(plan.shared.get(node.id, ()))
            if run.backward_passes > 1:
                grads += run.backward_passes  # grad_passes
        total += one * (1 + grads) + NODE_OVERHEAD_BYTES
    if options.backward_graph:
        total += _replicas(plan) * len(plan.order) * AUTOGRAD_NODES_PER_OP * AUTOGRAD_NODE_BYTES
    if options.backward_steps and run.output is not None:
        total += steps_bytes(plan, options, settings)
    return total + len(plan.checks) * CHECK_BYTES


def _replicas(plan: Plan) -> int:
    """How many times over the autograd graph may hold each op's nodes: a grad node that records
    its derivative's graph may replicate what lies upstream of it, about three times."""
    return 1 + 3 * sum(1 for node in plan.order if node.op.differentiates is not None)


def steps_bytes(plan: Plan, options: PayloadOptions, settings: Settings) -> int:
    """An upper bound on the recorded backward (?backward_steps), from the plan: every pass runs each
    of an op's autograd nodes once, each receiving its gradient and sending one per input, none
    larger than the largest of the op's input and output (each with the data limit of the nodes it
    concerns); a leaf's AccumulateGrad receives its gradient."""
    limits = (settings.default_payload_elements, settings.max_payload_elements)
    meta = {n.id: n.meta for n in plan.order}
    per_pass = 0
    for node in plan.order:
        if not node.meta.requires_grad:
            continue
        if node.op.source:
            numel = math.prod(node.meta.shape)
            sends = numel <= data_limit(node.id, options, *limits)
            per_pass += STEP_OVERHEAD_BYTES + payload_bytes(numel, node.meta.dtype, sends, options.encoding)
            continue
        if not node.op.differentiable:
            continue
        concerned = [node.id, *(e.source for e in node.inputs)]
        numel = max(math.prod(meta[nid].shape) for nid in concerned)
        sends = numel <= max(data_limit(nid, options, *limits) for nid in concerned)
        one = payload_bytes(numel, node.meta.dtype, sends, options.encoding)
        step = STEP_OVERHEAD_BYTES + one + len(node.inputs) * (SENT_OVERHEAD_BYTES + one)
        per_pass += AUTOGRAD_NODES_PER_OP * _replicas(plan) * step
    return per_pass * plan.run.backward_passes


def _hint(options: PayloadOptions) -> str:
    # In words first (the editor's reader asked for a tensor whole, and knows no query), then the option.
    hint = "ask for fewer tensors whole (the full option), or for data only up to a smaller size (max_elements)"
    if options.encoding == "list":
        hint += ", or for the data in base64 rather than lists, several times smaller (encoding=base64)"
    if options.backward_steps:
        hint += (
            ", or for the backward passes without every gradient of every step (backward_steps; the editor's "
            "Record steps)"
        )
    return hint


def check_response_size(plan: Plan, options: PayloadOptions, settings: Settings) -> None:
    """Refuse, before anything runs, an answer larger than settings.max_response_bytes."""
    size = response_bytes(plan, options, settings)
    if size <= settings.max_response_bytes:
        return
    raise GraphErrors(
        [
            GraphError(
                code="limit",
                message=f"the answer would be up to {size / 2**20:,.1f} MiB with these options; this server sends "
                f"at most {settings.max_response_bytes / 2**20:,.1f} MiB. To get less, {_hint(options)}.",
            )
        ]
    )


def check_steps_size(plan: Plan, options: PayloadOptions, settings: Settings, steps: list[BackwardStep]) -> None:
    """The bound made sure after the run: the recorded steps as they came (an op may create more
    autograd nodes than steps_bytes allows for), with the rest of the answer as bounded before it."""
    came = sum(_step_bytes(s, options.encoding) for s in steps)
    if came <= steps_bytes(plan, options, settings):  # within what was allowed for before the run
        return
    size = came + response_bytes(plan, options.model_copy(update={"backward_steps": False}), settings)
    if size <= settings.max_response_bytes:
        return
    raise GraphErrors(
        [
            GraphError(
                code="limit",
                message=f"the backward steps made the answer {size / 2**20:,.1f} MiB; this server sends at most "
                f"{settings.max_response_bytes / 2**20:,.1f} MiB. To get less, {_hint(options)}.",
            )
        ]
    )


def _step_bytes(step: BackwardStep, encoding: str) -> int:
    def one(p: TensorPayload | None) -> int:
        if p is None:
            return 0
        named = getattr(torch, p.dtype, None)  # "float32" -> torch.float32
        dtype = named if isinstance(named, torch.dtype) else torch.float64
        return payload_bytes(p.numel, dtype, p.data is not None, encoding)

    return (
        STEP_OVERHEAD_BYTES
        + sum(one(p) for p in step.grad_outputs)
        + sum(SENT_OVERHEAD_BYTES + one(s.grad) for s in step.sent)
    )


def evaluate_response(
    plan: Plan, result: RunResult, options: PayloadOptions, settings: Settings, compile_s: float
) -> EvaluateResponse:
    return evaluate_response_and(plan, result, options, settings, compile_s)[0]


def evaluate_response_and(
    plan: Plan,
    result: RunResult,
    options: PayloadOptions,
    settings: Settings,
    compile_s: float,
    more: Sequence[tuple[torch.Tensor, str]] = (),
) -> tuple[EvaluateResponse, list[TensorPayload]]:
    """The answer, and the payloads of `more` (tensor, node id) pairs made with its own: the last
    backward pass's recorded gradients, most of which are the very tensors kept as gradients, so
    that each is read once (payloads)."""
    start = time.perf_counter()
    # Every tensor to report, gathered first: payloads() reads them from their device at once.
    values = list(result.values.items())
    grads = list(result.grads.items())
    # Each use's share belongs to the shared node, also where it goes through a node that is the
    # same tensor (PlannedNode.same_as), whose own id is the edge's source.
    owner = {e: nid for nid, uses in plan.shared.items() for e in uses}
    contributions = [(edge, g) for edge, g in result.contributions.items() if g is not None]
    wanted = [(t, nid) for nid, t in values] + [(g, nid) for nid, g in grads]
    wanted += [(g, owner[edge]) for edge, g in contributions]
    history = [(k, nid, g) for k, grads_then in enumerate(result.grad_history) for nid, g in grads_then.items()]
    wanted += [(g, nid) for _, nid, g in history]
    made = payloads([*wanted, *more], options, settings.default_payload_elements, settings.max_payload_elements)
    made, made_more = made[: len(wanted)], made[len(wanted) :]
    n_values, n_grads, n_shares = len(values), len(grads), len(contributions)
    value_of = dict(zip(result.values, made[:n_values], strict=True))
    grad_of = dict(zip(result.grads, made[n_values : n_values + n_grads], strict=True))
    share_of = dict(
        zip([e for e, _ in contributions], made[n_values + n_grads : n_values + n_grads + n_shares], strict=True)
    )
    passes_of: dict[str, list[TensorPayload | None]] = {}
    for (k, nid, _), payload in zip(history, made[n_values + n_grads + n_shares :], strict=True):
        passes_of.setdefault(nid, [None] * len(result.grad_history))[k] = payload

    nodes: dict[str, NodeResult] = {}
    for node in plan.order:
        t = result.values[node.id]
        nodes[node.id] = NodeResult(
            id=node.id,
            op=node.op.name,
            shape=list(t.shape),
            dtype=dtype_name(t.dtype),
            device=str(t.device),
            requires_grad=t.requires_grad,
            is_leaf=t.is_leaf,
            grad_fn=None if t.grad_fn is None else type(t.grad_fn).__name__,
            version=_writes(t, result.filled),
            value=value_of[node.id],
            grad=grad_of.get(node.id),
            grad_note=None if node.id in grad_of else _grad_note(plan.run, node.id, t, result),
            grad_passes=passes_of.get(node.id),
        )
    for edge in result.contributions:
        share = GradContribution(consumer=edge.consumer, port=edge.slot, grad=share_of.get(edge))
        shared = nodes[owner[edge]]
        shared.contributions = [*(shared.contributions or []), share]
    checks = check_results(plan, result, {nid: n.grad_note for nid, n in nodes.items()})
    timings = Timings(
        compile_ms=compile_s * 1e3,
        forward_ms=result.forward_s * 1e3,
        backward_ms=result.backward_s * 1e3,
        encode_ms=(time.perf_counter() - start) * 1e3,
    )
    response = EvaluateResponse(
        run=_run_info(plan), order=[n.id for n in plan.order], nodes=nodes, timings=timings, checks=checks
    )
    return response, made_more


def _writes(t: torch.Tensor, filled: dict[int, int]) -> int:
    """t's version counter less what filling a source wrote (its views and in-place results share
    the source's counter: t._base is the source then)."""
    root = t._base if t._base is not None else t
    return int(t._version) - filled.get(id(root), 0)


def backward_call(run: Run) -> str | None:
    """The backward call a run makes, written as PyTorch code."""
    if run.output is None:
        return None
    target = f"{run.output}.sum()" if run.grad_output == "sum" else run.output
    args = [f"torch.ones_like({run.output})"] if run.grad_output == "ones" else []
    if run.wrt is not None:
        args.append("inputs=[" + ", ".join(run.wrt) + "]")
    n = run.backward_passes
    if n == 1:
        retain = ["retain_graph=True"] if run.retains(0) else []
        return f"{target}.backward({', '.join(args + retain)})"
    retain = {None: [f"retain_graph=i < {n - 1}"], True: ["retain_graph=True"], False: []}[run.retain_graph]
    zero = "zero_grad(); " if run.zero_grad else ""
    return f"for i in range({n}): {zero}{target}.backward({', '.join(args + retain)})"


def _run_info(plan: Plan) -> RunInfo:
    run = plan.run
    return RunInfo(
        seed=run.seed,
        training=run.training,
        device=str(plan.device),
        dtype=dtype_name(plan.dtype),
        output=run.output,
        wrt=run.wrt,
        grad_output=run.grad_output,
        backward_passes=run.backward_passes,
        retain_graph=run.retain_graph,
        zero_grad=run.zero_grad,
        backward=backward_call(run),
    )


def _grad_note(run: Run, nid: str, t: torch.Tensor, result: RunResult) -> str:
    if not result.backward_passes:
        return "no backward was run: no node is chosen to differentiate (the loss; run.output in the document)."
    if not t.requires_grad:
        return "does not require grad, so backward gives it no gradient."
    if run.wrt is not None and nid not in run.wrt:
        return (
            "its gradient was not asked for: it is not among the nodes to differentiate with respect to "
            "(run.wrt), so it was not kept."
        )
    return f"not reached by backward from {run.output!r}: {run.output} does not depend on it."

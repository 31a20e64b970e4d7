"""The gradient check: every gradient a run returns, against central finite differences in float64.

    check(graph, settings, max_elements) -> GradcheckResponse

The graph is run as it is, in float64 (every floating source, literals included) and with one
backward pass, so that each node's gradient is that of one pass of `run.output` (its sum, when it
is not a scalar). Then, for each node that has a gradient, elements of its value are moved by
±eps one at a time and the whole forward is run again, from the sources (the same seed draws the
same numbers): the numeric derivative is (L(+eps) − L(−eps)) / 2·eps, L being what backward
differentiated. A whole forward each time, not just what lies below the node, because an
in-place op changes a tensor that other nodes read before and after it: only running the graph
in its order reads each value as the run did.

What autograd treats as a constant stays one: a node whose value does not require grad (a
detach, a no_grad region, a derivative taken without create_graph) keeps the value it had in the
unmoved run, as autograd's gradient assumes; else the finite difference would see the path that
detach cut. The element moved is moved in the tensor itself, right after its node is made
(`.data`, out of autograd's sight), so that every use of it, a saved one included, sees it.

The elements moved are bounded by `max_elements` over all nodes (settings.gradcheck_elements by
default, never past settings.max_gradcheck_elements); above it, a seeded sample of each node's
elements, shared out between the nodes, and the answer says so. Before anything runs, the
forwards it will take are counted against settings.max_flops; during it, the run-time limit.
The verdict per element is torch.autograd.gradcheck's: |analytic − numeric| <= atol + rtol·|numeric|,
except on a kink (see _checked). A grad node's value is a derivative too: it is checked by moving
its inputs and differencing its outputs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import torch

from dagrad.compiler import ShapeMemo, compile_graph
from dagrad.errors import GraphError, GraphErrors
from dagrad.graph_format import Graph, Node
from dagrad.interpreter import Interpreter
from dagrad.plan import Plan, PlannedNode
from dagrad.results import GradcheckNode, GradcheckResponse
from dagrad.settings import Settings

# torch.autograd.gradcheck's defaults, so that the two say the same of the same op.
EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3
# How far apart the one-sided differences must be, in tolerances, for an element to sit on a kink
# rather than on a smooth curve: on one, they differ by about |f''|·eps, 1e-6·|f''| here.
KINK = 100
FLOATS = ("float32", "float64")


def as_float64(graph: Graph) -> Graph:
    """The same graph in float64, with one backward pass: each floating source in float64 (its
    literal read as float64, not rounded to float32 first), the run's passes down to one."""
    nodes = [
        n.model_copy(update={"attrs": {**n.attrs, "dtype": "float64"}}) if n.attrs.get("dtype") in FLOATS else n
        for n in graph.nodes
    ]
    run = graph.run.model_copy(update={"dtype": "float64", "backward_passes": 1, "retain_graph": None})
    return graph.model_copy(update={"nodes": [Node.model_validate(n.model_dump()) for n in nodes], "run": run})


@dataclass(frozen=True)
class _Target:
    """One gradient to check: `analytic`, the derivative of the sum of `of`'s value (times
    `weight`'s, a grad node's grad_outputs) with respect to `moved`'s value; shown on `node`."""

    node: str
    kind: Literal["gradient", "derivative"]
    moved: str
    of: str
    weight: str | None
    analytic: torch.Tensor


class _Moved(Interpreter):
    """A forward run in which one element of one node's value is moved by `delta` as soon as the
    node is made, and every node that autograd treats as a constant keeps its unmoved value."""

    def __init__(self, plan: Plan, deadline: float, max_seconds: float, clean: Mapping[str, torch.Tensor]):
        super().__init__(plan, max_seconds)
        self.deadline = deadline  # the whole check's, not a new one per forward
        self.tracked = set()  # no per-use views: nothing here runs backward from the output
        # Sources as the unmoved run drew them (copied each time: an in-place op may write into
        # one), and what autograd treats as constant, as that run made it (a clone: a later
        # in-place op of that run may have changed the tensor since).
        self.sources = {n.id: (clean[n.id].detach(), clean[n.id].requires_grad) for n in plan.order if n.op.source}
        self.differentiates = any(n.op.needs_autograd_graph for n in plan.order)
        self.draws = any(n.op.uses_run for n in plan.order)  # an op that draws from the run's generator
        self.constants = {
            n.id: clean[n.id].detach().clone() for n in plan.order if not n.op.source and not clean[n.id].requires_grad
        }

    def loss(self, target: _Target, index: tuple[int, ...], delta: float) -> float:
        """The sum of target.of's value (weighted) with element `index` of target.moved moved by delta."""
        self.values = {}
        self.generator.manual_seed(self.plan.run.seed)  # dropout's mask: the clean run's, each time
        for node in self.plan.order:
            self.check_deadline(node.id)
            value = self.constants.get(node.id)
            self.values[node.id] = self.run_node(node) if value is None else value
            if node.id == target.moved:
                self.values[node.id] = _move(self.values[node.id], index, delta)
        out = self.values[target.of].detach()
        if target.weight is not None:
            out = out * self.values[target.weight].detach()
        return float(out.sum())

    def make_source(self, node: PlannedNode) -> torch.Tensor:
        if self.draws:  # drawn again, only to leave the generator where the clean run's sources did
            super().make_source(node)
        drawn, requires_grad = self.sources[node.id]
        return drawn.clone().requires_grad_(requires_grad)

    def run_node(self, node: PlannedNode) -> torch.Tensor:
        try:
            if self.differentiates or node.op.source:
                return super().run_node(node)
            # Without autograd's bookkeeping, the same values (about a third of the time on the
            # Net): unless a grad node differentiates in the forward, nothing here needs the graph.
            with torch.no_grad():
                return node.op.call(node.gather(self.fetch), node.attrs, self.context)
        except GraphErrors:
            raise
        except Exception as exc:  # a moved value a kernel refuses (a log of a value moved below 0)
            message = f"{node.op.name} failed on a value the gradient check moved by {EPS:g}: {exc}"
            raise GraphErrors([GraphError(node=node.id, code="runtime", message=message)]) from exc

    def check_deadline(self, nid: str) -> None:
        if time.perf_counter() > self.deadline:
            message = (
                f"the gradient check passed the time limit of {self.max_seconds:g} s: ask for fewer elements "
                "(max_elements), or check a smaller graph."
            )
            raise GraphErrors([GraphError(node=nid, code="limit", message=message)])


def _move(value: torch.Tensor, index: tuple[int, ...], delta: float) -> torch.Tensor:
    """`value` with one element moved. In the tensor itself, out of autograd's sight, so that
    every use of it sees the move, a use saved for backward included (a derivative taken with
    create_graph reads it); but a view (index, transpose) is moved in a copy, since moving it in
    place would move the tensor it views, which other nodes read as their own."""
    if value._base is not None:
        step = torch.zeros_like(value)
        step[index] = delta
        return value + step
    value.data[index] += delta
    return value


def _targets(plan: Plan, values: Mapping[str, torch.Tensor], grads: Mapping[str, torch.Tensor]) -> list[_Target]:
    """Every gradient of run.output the run kept, and every grad node's value (a derivative of
    its outputs with respect to its inputs)."""
    found = []
    if plan.run.output is not None:
        found += [_Target(nid, "gradient", nid, plan.run.output, None, g.detach()) for nid, g in grads.items()]
    for node in plan.order:
        if node.op.differentiates is None:
            continue
        outputs, inputs = node.op.differentiates
        wired = {e.port: e.source for e in node.inputs}
        weight = next((e.source for e in node.inputs if e.port not in (outputs, inputs)), None)
        found.append(_Target(node.id, "derivative", wired[inputs], wired[outputs], weight, values[node.id].detach()))
    return found


def _picked(numels: list[int], budget: int, seed: int) -> tuple[list[torch.Tensor], bool]:
    """Which elements of each target to move: all of them within the budget; else the budget
    shared out evenly (a target with fewer elements than its share gives the rest to the others),
    each target's elements a seeded sample, in increasing order."""
    if sum(numels) <= budget:
        return [torch.arange(n) for n in numels], False
    share = [0] * len(numels)
    left, waiting = budget, sorted(range(len(numels)), key=lambda i: numels[i])
    while waiting:
        i = waiting.pop(0)
        share[i] = min(numels[i], max(left // (len(waiting) + 1), 1 if left > 0 else 0))
        left -= share[i]
    generator = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=generator)[:k].sort().values for n, k in zip(numels, share, strict=True)], True


def check(
    graph: Graph, settings: Settings, max_elements: int | None = None, memo: ShapeMemo | None = None
) -> GradcheckResponse:
    start = time.perf_counter()
    budget = settings.gradcheck_elements if max_elements is None else max_elements
    if budget > settings.max_gradcheck_elements:
        raise _refused(
            f"max_elements={budget:,} is more than this server's limit of {settings.max_gradcheck_elements:,} "
            "elements moved per gradient check: ask for fewer."
        )
    plan = compile_graph(as_float64(graph), settings, memo)
    result = Interpreter(plan, settings.max_run_seconds).run()
    targets = _targets(plan, result.values, result.grads)
    if not targets:
        message = (
            "nothing to check: the run returns no gradient. Set run.output (the loss) to the node to "
            "differentiate, or add a grad node."
        )
        raise GraphErrors([GraphError(code="run", message=message)])
    picked, sampled = _picked([t.analytic.numel() for t in targets], budget, plan.run.seed)
    moves = sum(len(ix) for ix in picked)
    forward = sum(c.forward for c in plan.costs.values())
    if (2 * moves + 1) * forward > settings.max_flops:
        most = int(settings.max_flops // max(2 * forward, 1.0))
        raise _refused(
            f"moving {moves:,} elements takes {2 * moves:,} forward runs of about {forward:.2e} operations each, "
            f"more than this server's {settings.max_flops:.2e}: ask for max_elements={most:,} or fewer."
        )
    # A little before the worker's own limit, so that the answer says what to change.
    moved = _Moved(plan, start + 0.9 * settings.max_run_seconds, settings.max_run_seconds, result.values)
    nodes = [
        _checked(t, ix, moved, sampled and len(ix) < t.analytic.numel()) for t, ix in zip(targets, picked, strict=True)
    ]
    return GradcheckResponse(
        eps=EPS,
        atol=ATOL,
        rtol=RTOL,
        dtype="float64",
        max_elements=budget,
        elements_checked=moves,
        elements_total=sum(t.analytic.numel() for t in targets),
        sampled=sampled,
        ok=all(n.ok for n in nodes),
        nodes=nodes,
        seconds=time.perf_counter() - start,
    )


def _close(a: float, numeric: float) -> bool:
    return abs(a - numeric) <= ATOL + RTOL * abs(numeric)


def _checked(target: _Target, indices: torch.Tensor, moved: _Moved, sampled: bool) -> GradcheckNode:
    analytic = target.analytic.reshape(-1)
    shape = list(target.analytic.shape)
    at_rest = None  # the unmoved sum, for the one-sided differences: computed once
    worst_abs, worst_rel, worst, bad, kinks = 0.0, 0.0, None, 0, 0
    for i in indices.tolist():
        at = _unravel(i, shape)
        up, down = moved.loss(target, at, EPS), moved.loss(target, at, -EPS)
        numeric = (up - down) / (2 * EPS)
        a = float(analytic[i])
        if not _close(a, numeric):
            # A kink (a tie of max pooling, relu at 0): the one-sided differences disagree, and
            # autograd's answer there is one of them, a subgradient. Not a wrong gradient.
            at_rest = moved.loss(target, at, 0.0) if at_rest is None else at_rest
            right, left = (up - at_rest) / EPS, (at_rest - down) / EPS
            if KINK * (ATOL + RTOL * max(abs(right), abs(left))) < abs(right - left) and (
                _close(a, right) or _close(a, left)
            ):
                kinks += 1
                continue
            bad += 1
        err = abs(a - numeric)
        rel = err / max(abs(a), abs(numeric)) if err else 0.0
        if worst is None or err > worst_abs:
            worst_abs, worst = err, (i, a, numeric)
        worst_rel = max(worst_rel, rel)
    index, a, numeric = worst if worst is not None else (0, 0.0, 0.0)
    return GradcheckNode(
        node=target.node,
        kind=target.kind,
        moved=target.moved,
        numel=target.analytic.numel(),
        checked=len(indices),
        sampled=sampled,
        max_abs_error=worst_abs,
        max_rel_error=worst_rel,
        failing=bad,
        kinks=kinks,
        ok=bad == 0,
        worst_index=list(_unravel(index, shape)),
        worst_analytic=a,
        worst_numeric=numeric,
    )


def _unravel(flat: int, shape: list[int]) -> tuple[int, ...]:
    """The index of element `flat` (row-major) of a tensor of `shape`."""
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))


def _refused(message: str) -> GraphErrors:
    return GraphErrors([GraphError(code="limit", message=message)])

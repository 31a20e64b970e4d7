"""Execute a compiled `Plan`: forward in order, then backward, keeping every value and gradient.

It runs and keeps; it does not report (statistics and payloads are made from its result by
dagrad.report). Like torch.fx's Interpreter, `run` walks the plan and calls `run_node` for each
node, storing its value; a failure is re-raised naming the node it happened in. The call tree,
for whoever extends it (override a method, or pass an `Observer`):

    run()
      ├─ run_node(node)       for each node in topological order, between observer.starting(node)
      │                       and observer.value(node, value)
      │    ├─ make_source()   input / parameter / constant: drawn on the CPU, then moved
      │                       (or the tensor given for it in `feeds`)
      │    └─ node.op.call()  everything else, its arguments from fetch(edge)
      └─ backward()           from run.output, run.backward_passes times; observer.backward_pass
                              and observer.backward_done around each pass
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from dagrad.autograd import Makers, freed_errors, frees_graph, overwrite_errors, overwrites, writers
from dagrad.errors import BackwardFailed, GraphError, GraphErrors, OpError
from dagrad.ops.registry import RunContext, mutates
from dagrad.ops.sources import SourceAttrs, create
from dagrad.plan import Edge, Plan, PlannedNode


class Observer:
    """Sees a run as it happens. Every method does nothing here; override the ones you need.
    An observer must not change the tensors it is shown."""

    def starting(self, node: PlannedNode) -> None:
        """`node` is about to run."""

    def value(self, node: PlannedNode, value: torch.Tensor) -> None:
        """`node`'s value, just made (a later in-place op may still change it)."""

    def backward_pass(self, index: int, output: torch.Tensor) -> None:
        """Backward pass `index` (from 0) is about to start from `output`."""

    def backward_done(self, index: int) -> None:
        """Backward pass `index` has finished: leaves' .grad hold the sum of passes so far."""


class Observers(Observer):
    """Several observers as one, each told in turn."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = observers

    def starting(self, node: PlannedNode) -> None:
        for o in self.observers:
            o.starting(node)

    def value(self, node: PlannedNode, value: torch.Tensor) -> None:
        for o in self.observers:
            o.value(node, value)

    def backward_pass(self, index: int, output: torch.Tensor) -> None:
        for o in self.observers:
            o.backward_pass(index, output)

    def backward_done(self, index: int) -> None:
        for o in self.observers:
            o.backward_done(index)


@dataclass
class RunResult:
    values: dict[str, torch.Tensor]
    # The gradient of every node whose gradient is kept (run.wrt, or every tensor that requires
    # grad and was reached), summed over the backward passes: a leaf's .grad, a non-leaf's as
    # hooks received it.
    grads: dict[str, torch.Tensor] = field(default_factory=dict)
    # For shared nodes (Plan.shared): what each use sent back; their sum is the node's gradient.
    contributions: dict[Edge, torch.Tensor | None] = field(default_factory=dict)
    # The identity view each tracked use was given (Interpreter.fetch): dagrad's, not the user's.
    aliases: dict[Edge, torch.Tensor] = field(default_factory=dict)
    # Each source's version counter once filled (id of its tensor -> _version): what the report
    # subtracts, so that a version counts the in-place writes after a node made its value.
    filled: dict[int, int] = field(default_factory=dict)
    # With several backward passes: the kept gradients after each (after all of them is `grads`).
    grad_history: list[dict[str, torch.Tensor]] = field(default_factory=list)
    backward_passes: int = 0  # how many ran; 0 when run.output is not set
    forward_s: float = 0.0
    backward_s: float = 0.0


class Interpreter:
    def __init__(
        self,
        plan: Plan,
        max_seconds: float,
        observer: Observer | None = None,
        aliases: dict[Edge, torch.Tensor] | None = None,
        feeds: Mapping[str, torch.Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.plan = plan
        # Given tensors for source nodes, by id, used as they are instead of drawn from the init:
        # how training keeps its parameters, buffers and optimiser state across steps and feeds
        # each step's batch (training.py). A fed source draws nothing from the generator.
        self.feeds: Mapping[str, torch.Tensor] = feeds or {}
        self.observer = observer or Observer()
        self.values: dict[str, torch.Tensor] = {}
        # Filled as uses are fetched; a caller may pass its own dict, to read it while the run goes on.
        self.aliases: dict[Edge, torch.Tensor] = {} if aliases is None else aliases
        self.makers = Makers()  # which node made which autograd node, noted as each value is made
        self.grad_history: list[dict[str, torch.Tensor]] = []  # after each pass, when there are several
        self.filled: dict[int, int] = {}  # id(a source's tensor) -> its version counter once filled
        # Random sources draw from one CPU generator, in plan order (which keeps document order);
        # a caller may pass its own: a training's, so that each step's dropout draws on from the last's.
        self.generator = torch.Generator().manual_seed(plan.run.seed) if generator is None else generator
        # What ops that use the run (OpDef.uses_run) are told: dropout draws from the same generator.
        self.context = RunContext(training=plan.run.training, generator=self.generator)
        self.deadline = time.perf_counter() + max_seconds
        self.max_seconds = max_seconds
        # Per-use aliases cost a view and a gradient copy each: only when backward will run.
        self.tracked = {e for uses in plan.shared.values() for e in uses} if plan.run.output is not None else set()

    def run(self) -> RunResult:
        start = time.perf_counter()
        for node in self.plan.order:
            self.check_deadline(node.id)
            self.observer.starting(node)
            try:
                value = self.values[node.id] = self.run_node(node)
            except GraphErrors:
                raise
            except Exception as exc:
                raise located(node, exc) from exc
            self.makers.note(node.id, value)  # now: an in-place op may later replace the tensor's grad_fn
            self.observer.value(node, value)
        result = RunResult(self.values, aliases=self.aliases, filled=self.filled, forward_s=time.perf_counter() - start)
        if self.plan.run.output is not None:
            self.check_deadline(self.plan.run.output)
            start = time.perf_counter()
            result.grads = self.backward()
            result.backward_passes = self.plan.run.backward_passes
            result.backward_s = time.perf_counter() - start
            result.contributions = {edge: alias.grad for edge, alias in self.aliases.items()}
            result.grad_history = self.grad_history
        return result

    def run_node(self, node: PlannedNode) -> torch.Tensor:
        if node.op.source:
            return self.make_source(node)
        made = len(self.aliases)
        grad = not node.no_grad  # a no_grad region: as torch.no_grad() runs it
        if torch.is_grad_enabled() == grad:  # the mode already (entering it costs ~1.5 us a node)
            out = node.op.call(node.gather(self.fetch), node.attrs, self.context)
        else:
            with torch.set_grad_enabled(grad):
                out = node.op.call(node.gather(self.fetch), node.attrs, self.context)
        if len(self.aliases) > made and not mutates(node.attrs):
            # An op that hands back one of its inputs as it was given (torch.autograd.grad of a
            # tensor by itself returns grad_outputs) hands back, in PyTorch, that very tensor:
            # the node's value, not this use's identity view (a non-leaf with ViewBackward0).
            for edge, alias in itertools.islice(self.aliases.items(), made, None):
                if out is alias:
                    return self.values[edge.source]
        return out

    def make_source(self, node: PlannedNode) -> torch.Tensor:
        attrs = node.attrs
        assert isinstance(attrs, SourceAttrs)
        fed = self.feeds.get(node.id)
        if fed is not None:
            self.filled[id(fed)] = fed._version
            return fed
        t = create(attrs, attrs.resolved_dtype(self.plan.run.dtype), self.generator)
        t = t.to(self.plan.device).requires_grad_(attrs.requires_grad)
        self.filled[id(t)] = t._version  # the init's own in-place writes (normal_, uniform_): not the user's
        return t

    def fetch(self, edge: Edge) -> torch.Tensor:
        """The value `edge` carries: its source's, or for a use of a shared tensor an identity view
        of it, whose .grad is what this use sends back (Plan.shared)."""
        value = self.values[edge.source]
        if not self.tracked or edge not in self.tracked:  # (an Edge's hash costs ~0.7 us)
            return value
        alias = value.view_as(value)
        alias.retain_grad()
        self.aliases[edge] = alias
        return alias

    def backward(self) -> dict[str, torch.Tensor]:
        """Every backward pass; the kept gradients, by node id."""
        run = self.plan.run
        assert run.output is not None
        out = self.values[run.output]
        grad_tensor = None if run.grad_output is None else torch.ones_like(out)
        kept_ids = list(self.values) if run.wrt is None else run.wrt
        kept = {nid: self.values[nid] for nid in kept_ids if self.values[nid].requires_grad}
        grads: dict[str, torch.Tensor] = {}
        for nid, t in kept.items():
            if not t.is_leaf:
                t.register_hook(_keeper(grads, nid))  # type: ignore[no-untyped-call]  # torch leaves it untyped
        targets = None if run.wrt is None else list(kept.values())
        passes = run.backward_passes
        for i in range(passes):
            if i and run.zero_grad:  # optimizer.zero_grad(): every kept gradient to None
                grads.clear()
                for t in [*kept.values(), *self.aliases.values()]:  # each use's share with them
                    if t.is_leaf or t.retains_grad:
                        t.grad = None
            self.observer.backward_pass(i, out)
            try:
                torch.autograd.backward(out, grad_tensor, retain_graph=run.retains(i), inputs=targets)
            except Exception as exc:
                raise self.backward_error(exc, i, out) from exc
            self.observer.backward_done(i)
            if passes > 1:
                # A copy of each leaf's .grad: the next pass may accumulate into it in place. A
                # non-leaf's is a new tensor each pass (_keeper).
                self.grad_history.append(_kept(kept, grads, lambda g: g.clone()))
        return _kept(kept, grads, lambda g: g)

    def backward_error(self, exc: Exception, index: int, out: torch.Tensor) -> GraphErrors:
        """A graph freed by an earlier pass: said on the output and on every node whose op saved
        what was freed. An overwritten saved value: on the node that made it and on the in-place
        node that overwrote it. Else on the output."""
        message = str(exc).strip().splitlines()[0]
        node = self.plan.run.output
        assert node is not None
        if frees_graph(message):
            return BackwardFailed(freed_errors(self.makers, out.grad_fn, index, node))
        if overwrites(message):
            inplace = writers((n.id, n.attrs, ((e.port, e.source) for e in n.inputs)) for n in self.plan.order)
            return BackwardFailed(overwrite_errors(self.makers, out.grad_fn, message, inplace, node))
        return GraphErrors([GraphError(node=node, code="runtime", message=f"backward failed: {message}")])

    def check_deadline(self, nid: str) -> None:
        if time.perf_counter() > self.deadline:
            raise GraphErrors(
                [
                    GraphError(
                        node=nid,
                        code="limit",
                        message=f"the run passed its time limit of {self.max_seconds:g} s before this node.",
                    )
                ]
            )


def _kept(
    kept: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], leaf: Callable[[torch.Tensor], torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The kept gradients as they stand, in plan order: a leaf's .grad through `leaf`, a
    non-leaf's as its hook received it."""
    out: dict[str, torch.Tensor] = {}
    for nid, t in kept.items():
        if t.is_leaf:
            if t.grad is not None:
                out[nid] = leaf(t.grad)
        elif nid in grads:
            out[nid] = grads[nid]
    return out


def _keeper(grads: dict[str, torch.Tensor], nid: str) -> Callable[[torch.Tensor], None]:
    """A backward hook that keeps the gradient of a non-leaf node: what retain_grad() keeps,
    without its copy. Autograd never writes in place into a gradient that someone else holds,
    so the tensor it hands over stays as it was. Several backward passes add up, as .grad does."""

    def keep(grad: torch.Tensor) -> None:
        before = grads.get(nid)
        grads[nid] = grad if before is None else before + grad

    return keep


def located(node: PlannedNode, exc: Exception) -> GraphErrors:
    if isinstance(exc, OpError):
        return GraphErrors([GraphError(node=node.id, port=exc.port, code=exc.code, message=str(exc))])
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, torch.OutOfMemoryError):
        return GraphErrors(
            [GraphError(node=node.id, code="limit", message=f"{node.op.name} ran out of device memory: {first}")]
        )
    return GraphErrors(
        [GraphError(node=node.id, code="runtime", message=f"{node.op.name} failed while running: {first}")]
    )

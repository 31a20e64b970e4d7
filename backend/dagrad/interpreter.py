"""Execute a compiled `Plan`: forward in order, then backward, keeping every value.

Like torch.fx's Interpreter, `run` walks the plan and calls `run_node` for
each node, storing its value in `env`; a failure is re-raised naming the node
it happened in. The call tree, for whoever extends it:

    run()
      ├─ run_node(node)      for each node in topological order (large values summarised at once)
      │    ├─ make_source()  input / parameter / constant: drawn on the CPU, then moved
      │    └─ op.call()      everything else, on the plan's device
      └─ backward()          from run.output; leaves' gradients land in .grad, the other
                             nodes' are kept by hooks (_keeper) in RunResult.grads
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from dagrad.errors import GraphError, GraphErrors, OpError
from dagrad.memo import LRU
from dagrad.ops.sources import SourceAttrs, create
from dagrad.payload import EarlyStats, Noted
from dagrad.plan import Edge, Plan, PlannedNode


def _nbytes(tensors: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


# Drawn sources by (seed, dtype, every source's attributes in order); at most 256 MiB of them.
_DRAWN: LRU[tuple[object, ...], dict[str, torch.Tensor]] = LRU(max_items=64, max_bytes=256 * 2**20, size_of=_nbytes)


@dataclass
class RunResult:
    env: dict[str, torch.Tensor]
    # The gradients of non-leaf nodes (leaves hold theirs in .grad), by node id.
    grads: dict[str, torch.Tensor] = field(default_factory=dict)
    # For shared nodes: the gradient each use contributed (their sum is the node's gradient).
    contributions: dict[Edge, torch.Tensor | None] = field(default_factory=dict)
    backward_ran: bool = False
    forward_s: float = 0.0
    backward_s: float = 0.0


class Interpreter:
    def __init__(self, plan: Plan, max_seconds: float, early: EarlyStats | None = None) -> None:
        self.plan = plan
        self.early = early  # statistics of large tensors, taken as they are made
        self.env: dict[str, torch.Tensor] = {}
        self.grads: dict[str, torch.Tensor] = {}
        self.aliases: dict[Edge, torch.Tensor] = {}
        self.creators: dict[str, list[str]] = {}  # autograd node name -> the nodes whose ops made one
        self.sources: dict[str, torch.Tensor] | None = None
        self.deadline = time.perf_counter() + max_seconds
        self.max_seconds = max_seconds
        # Per-use aliases are only worth their cost when someone will look at the gradients.
        self.track_uses = plan.run.output is not None and bool(plan.shared)

    def run(self) -> RunResult:
        start = time.perf_counter()
        for node in self.plan.order:
            self.check_deadline(node.id)
            try:
                value = self.env[node.id] = self.run_node(node)
                if self.early is not None:
                    self.early.values.note(value)
                if value.grad_fn is not None:  # kept: an in-place op may later replace the tensor's grad_fn
                    name = type(value.grad_fn).__name__
                    for key in {name, re.sub(r"Backward\d*$", "", name)}:
                        self.creators.setdefault(key, []).append(node.id)
            except GraphErrors:
                raise
            except Exception as exc:
                raise _located(node, exc) from exc
        forward_s = time.perf_counter() - start
        result = RunResult(self.env, self.grads, forward_s=forward_s)
        if self.plan.run.output is not None:
            self.check_deadline(self.plan.run.output)
            start = time.perf_counter()
            self.backward()
            result.backward_ran = True
            result.backward_s = time.perf_counter() - start
            result.contributions = {edge: alias.grad for edge, alias in self.aliases.items()}
        return result

    def run_node(self, node: PlannedNode) -> torch.Tensor:
        if node.op.source:
            return self.make_source(node)
        inputs = {port: self.fetch(src, node, port) for port, src in node.inputs.items()}
        return node.op.call(inputs, node.attrs)

    def make_source(self, node: PlannedNode) -> torch.Tensor:
        attrs = node.attrs
        assert isinstance(attrs, SourceAttrs)
        drawn = self.drawn_sources()[node.id]
        # A copy: the drawn tensors are cached, and a run may change its tensors in place.
        t = drawn.to(self.plan.device, copy=True)
        return t.requires_grad_(attrs.requires_grad)

    def drawn_sources(self) -> dict[str, torch.Tensor]:
        """Every source's tensor on the CPU, drawn in document order from the run's seed.

        They depend only on the seed, the dtype and the sources' attributes, in order: a graph
        run again draws nothing (0.03 ms to copy where drawing the Net's batch of 256 takes 1 ms)."""
        if self.sources is None:
            specs = [(n.id, n.attrs) for n in self.plan.order if n.op.source]
            key = (self.plan.run.seed, self.plan.run.dtype, tuple(a.model_dump_json() for _, a in specs))
            self.sources = _DRAWN.get(key)
            if self.sources is None:
                generator = torch.Generator().manual_seed(self.plan.run.seed)
                self.sources = {}
                for nid, attrs in specs:
                    assert isinstance(attrs, SourceAttrs)
                    self.sources[nid] = create(attrs, attrs.resolved_dtype(self.plan.run.dtype), generator)
                _DRAWN.put(key, self.sources)
        return self.sources

    def fetch(self, src: str | list[str], consumer: PlannedNode, port: str) -> Any:
        if isinstance(src, list):
            return [self.fetch_one(ref, consumer, f"{port}[{i}]") for i, ref in enumerate(src)]
        return self.fetch_one(src, consumer, port)

    def fetch_one(self, ref: str, consumer: PlannedNode, port: str) -> torch.Tensor:
        value = self.env[ref]
        if not self.track_uses or ref not in self.plan.shared:
            return value
        if not consumer.op.differentiable or consumer.op.name == "grad":
            return value
        # An identity view per use: its .grad is what this use contributes to ref's gradient.
        alias = value.view_as(value)
        alias.retain_grad()
        self.aliases[Edge(ref, consumer.id, port)] = alias
        return alias

    def backward(self) -> None:
        run = self.plan.run
        assert run.output is not None
        out = self.env[run.output]
        grad_tensor = None if run.grad_output is None else torch.ones_like(out)
        if run.wrt is None:
            targets = None
            kept = [(nid, t) for nid, t in self.env.items() if t.requires_grad and not t.is_leaf]
        else:
            targets = [self.env[w] for w in run.wrt]
            kept = [(w, t) for w, t in zip(run.wrt, targets, strict=True) if not t.is_leaf]
        noted = self.early.grads if self.early is not None else None
        routed = self.routed_grads({nid for nid, _ in kept}) if noted is not None else {}
        for nid, t in kept:
            hook = _keeper(self.grads, nid, noted, routed.get(nid))
            t.register_hook(hook)  # type: ignore[no-untyped-call]  # torch leaves it untyped
        passes = run.backward_passes
        for i in range(passes):
            try:
                torch.autograd.backward(out, grad_tensor, retain_graph=i < passes - 1, inputs=targets)
            except Exception as exc:
                raise self.backward_error(exc) from exc

    def routed_grads(self, kept: set[str]) -> dict[str, str]:
        """Kept nodes whose whole gradient comes from one op that routes it (OpDef.routes_grad:
        max-pooling over disjoint windows), each with that op's node, whose gradient is kept too.
        The statistics of such a gradient follow from the op's own (payload.Noted.note_routed).

        Only where nothing else can add to it: the node feeds that op alone and is not the output,
        one backward pass, no `grad` op (its double backward reaches values by other paths), and
        the op's value was not written in place (a hook on it would then see another gradient)."""
        run = self.plan.run
        if run.backward_passes != 1 or any(n.op.name == "grad" for n in self.plan.order):
            return {}
        uses: dict[str, list[tuple[PlannedNode, str]]] = {}
        for node in self.plan.order:
            for port, src in node.inputs.items():
                for ref in src if isinstance(src, list) else [src]:
                    uses.setdefault(ref, []).append((node, port))
        routed = {}
        for nid in kept - {run.output}:
            if len(uses.get(nid, [])) != 1:
                continue
            ((op_node, port),) = uses[nid]
            routes = op_node.op.routes_grad
            unchanged = self.env[op_node.id]._version == 0
            if port == "input" and routes is not None and op_node.id in kept and unchanged and routes(op_node.attrs):
                routed[nid] = op_node.id
        return routed

    def backward_error(self, exc: Exception) -> GraphErrors:
        """Blame the node whose saved value was overwritten when PyTorch names it, else the output."""
        message = str(exc).strip().splitlines()[0]
        node = self.plan.run.output
        found = re.search(r"output \d+ of (\w+)", message)
        suspects = self.creators.get(found.group(1), []) if found else []
        if suspects:
            node = suspects[0]
            if len(suspects) > 1:
                message += f" (the overwritten value was made by one of: {', '.join(suspects)})"
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


def _keeper(
    grads: dict[str, torch.Tensor], nid: str, noted: Noted | None, routed_from: str | None = None
) -> Callable[[torch.Tensor], None]:
    """A backward hook that keeps the gradient of a non-leaf node: what retain_grad() keeps,
    without its copy (4 ms of the course's Net at batch 256). Autograd never writes in place into
    a gradient that someone else holds, so the tensor it hands over stays as it was. Several
    backward passes add up, as .grad does. `routed_from`: see Interpreter.routed_grads."""

    def keep(grad: torch.Tensor) -> None:
        before = grads.get(nid)
        if before is None:
            grads[nid] = grad
            if noted is not None and routed_from is not None:
                noted.note_routed(grad, grads.get(routed_from))
            elif noted is not None:
                noted.note(grad)
        else:
            grads[nid] = before + grad

    return keep


def _located(node: PlannedNode, exc: Exception) -> GraphErrors:
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

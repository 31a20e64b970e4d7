"""Each backward pass as PyTorch executed it (asked for with ?backward_steps=true).

`BackwardStepsRecorder` is an interpreter Observer beside the `BackwardGraphRecorder`, whose
graph it numbers its steps by. Before each of the run's backward passes it registers a post-hook
on every autograd node of that graph (`Node.register_hook`), and removes them when the pass is
done: the engine calls each hook right after the node ran, with the gradients that arrived
(grad_outputs) and those it computed for its next_functions (grad_inputs), so the hooks fire in
the order autograd ran the nodes. Nothing is hooked while the graph is built, so a grad node's own
torch.autograd.grad in the forward pass is not recorded: only the run's backward is.

dagrad's per-use identity views of a shared tensor (Interpreter.fetch) are not hooked: what a node
sends into one is sent on unchanged to the tensor it views, so a send is named by the node the
view leads to, as the backward graph names its edges.

The hooks keep the tensors they are handed until the pass is done, and the pass's payloads are
made then, in one batch: within a pass no gradient autograd hands a hook is changed in place,
since the engine accumulates in place only into a tensor nobody else holds; but AccumulateGrad
may take the tensor it was given as the leaf's .grad and add the next pass's gradient into it in
place, so nothing is kept past its pass. A tensor seen twice (sent by one node, arrived at the
next) gets one payload. The last pass's tensors go to the answer's own payloads (`last_pass`,
`finish`), where most of them are the very gradients kept for the nodes (a node's gradient is what
arrived at its grad_fn) and are read once; what a leaf's AccumulateGrad received is its .grad
itself when the leaf had none before the pass (the same numbers, AccumulateGrad's copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from dagrad.interpreter import Observer
from dagrad.plan import Edge
from dagrad.report.backward_graph import BackwardGraphRecorder, Reached
from dagrad.report.payload import payloads
from dagrad.results import BackwardStep, GradSent, PayloadOptions, TensorPayload
from dagrad.settings import Settings


@dataclass
class _Step:
    backward_pass: int
    node: int
    grad_outputs: list[int | None]  # indices into the pass's tensors
    sent: list[tuple[int, int, int]] = field(default_factory=list)  # (to, slot, tensor index)


class BackwardStepsRecorder(Observer):
    def __init__(
        self,
        graph: BackwardGraphRecorder,
        aliases: dict[Edge, torch.Tensor],
        options: PayloadOptions,
        settings: Settings,
    ) -> None:
        self.graph = graph
        self.aliases = aliases  # the interpreter's: filled by the time backward starts
        self.options = options
        self.settings = settings
        self.reached: Reached | None = None
        self.handles: list[Any] = []
        self.steps: list[BackwardStep] = []
        # This pass's: its steps, and each tensor once (by id(): all are held until the pass ends)
        # with the node whose payload limit it takes.
        self.pending: list[_Step] = []
        self.tensors: list[tuple[torch.Tensor, str]] = []
        self.index: dict[tuple[int, str], int] = {}
        self.held: list[torch.Tensor] = []

    def backward_pass(self, index: int, output: torch.Tensor) -> None:
        if self.reached is None:  # the graph is complete once forward is done
            self.reached = self.graph.reached(self.aliases)
        reached = self.reached
        last = index == self.graph.plan.run.backward_passes - 1
        for fn in reached.order:
            me = reached.ids[id(fn)]
            leads = [
                (slot, reached.ids.get(id(reached.through(nxt)))) for slot, (nxt, _) in enumerate(fn.next_functions)
            ]
            owners = {to: self._owner(to) for _, to in leads if to is not None}
            # A leaf with no .grad yet: after this pass's AccumulateGrad its .grad is what arrived.
            leaf = getattr(fn, "variable", None)
            fresh = leaf if last and isinstance(leaf, torch.Tensor) and leaf.grad is None else None
            self.handles.append(fn.register_hook(self._hook(index, me, self._owner(me), leads, owners, fresh)))

    def backward_done(self, index: int) -> None:
        self.close()
        if index < self.graph.plan.run.backward_passes - 1:  # a later pass may change them in place
            limits = (self.settings.default_payload_elements, self.settings.max_payload_elements)
            self.finish(payloads(self.tensors, self.options, *limits))

    def last_pass(self) -> list[tuple[torch.Tensor, str]]:
        """The last pass's tensors (with the node whose data limit each takes), for the answer to
        make their payloads with its own."""
        return self.tensors

    def finish(self, made: list[TensorPayload]) -> list[BackwardStep]:
        """The steps, given the payloads of the pass's tensors; every step so far."""
        self.steps += [_model(s, made) for s in self.pending]
        self.pending, self.tensors, self.index, self.held = [], [], {}, []
        return self.steps

    def close(self) -> None:
        """Remove every hook (after a pass, or when its backward failed)."""
        for h in self.handles:
            h.remove()
        self.handles = []

    def _owner(self, autograd_id: int) -> str:
        assert self.reached is not None
        return self.graph.owner(self.reached.order[autograd_id]) or ""

    def _hook(
        self,
        index: int,
        me: int,
        owner: str,
        leads: list[tuple[int, int | None]],
        owners: dict[int, str],
        fresh: torch.Tensor | None,
    ) -> Any:
        def hook(grad_inputs: tuple[torch.Tensor | None, ...], grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            step = _Step(index, me, [None if g is None else self._keep(g, owner) for g in grad_outputs])
            if fresh is not None and fresh.grad is not None and step.grad_outputs[0] is not None:
                # AccumulateGrad gave the leaf what arrived: its .grad holds those numbers now.
                # What arrived stays held: its id() must not be taken by a new tensor this pass.
                self.held.append(self.tensors[step.grad_outputs[0]][0])
                self.tensors[step.grad_outputs[0]] = (fresh.grad, owner)
            for (slot, to), g in zip(leads, grad_inputs, strict=False):
                if to is not None and g is not None:
                    step.sent.append((to, slot, self._keep(g, owners[to])))
            self.pending.append(step)

        return hook

    def _keep(self, t: torch.Tensor, node: str) -> int:
        key = (id(t), node)
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.tensors)
            self.tensors.append((t, node))
        return i


def _model(step: _Step, made: list[TensorPayload]) -> BackwardStep:
    # Built, not validated: every field is an int or a payload made and validated already.
    return BackwardStep.model_construct(
        backward_pass=step.backward_pass,
        node=step.node,
        grad_outputs=[None if i is None else made[i] for i in step.grad_outputs],
        sent=[GradSent.model_construct(to=to, slot=slot, grad=made[i]) for to, slot, i in step.sent],
    )

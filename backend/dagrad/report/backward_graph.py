"""The autograd graph a run built, as PyTorch holds it (asked for with ?backward_graph=true).

`BackwardGraphRecorder` is an interpreter Observer. When a node's value is made, it walks the
autograd nodes newly reachable from that value's grad_fn (through next_functions): those are the
ones the node's op created (linear can create AddmmBackward0 and TBackward0), and each one's
saved tensors (`_saved_*`) are read then, while they are surely still there. Walking at that
moment, not after the run, attributes each autograd node to its op even when a later in-place
op replaces the tensor's grad_fn. After the run, `graph()` keeps what is reachable from the
roots (run.output and every grad node's `outputs`, and a grad node's own result when
create_graph recorded a graph for it), leaves out the identity views the interpreter adds for
each use of a shared tensor (Plan.shared: they are dagrad's, not the user's), and reads every
saved tensor's state once more: kept, freed by the last backward, or overwritten in place.

An AccumulateGrad node belongs to the leaf it accumulates into. A saved tensor is named as a
node's value only when it is that very tensor: PyTorch hands back the object it saved (for an
op's input), which is a node's value or the identity view of one use of it (Interpreter.fetch),
or, for an op's own output, a new handle with the grad_fn it had when it was saved. Storage alone
would not do: a detach() shares its input's storage, shape and strides. Nothing here changes a
tensor.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from dagrad.autograd import SAVED, SavedState, saved_fields, saved_state
from dagrad.errors import dtype_name
from dagrad.interpreter import Observer
from dagrad.plan import Edge, Plan, PlannedNode
from dagrad.results import BackwardGraph

# An op's saved output, told apart from other tensors on the same storage by the grad_fn it was
# saved with: (id(grad_fn), device, data pointer, offset, shape, strides, dtype).
OutputKey = tuple[int, str, int, int, tuple[int, ...], tuple[int, ...], torch.dtype]


def _output_key(t: torch.Tensor) -> OutputKey | None:
    if t.grad_fn is None or t.layout != torch.strided:
        return None
    where = (str(t.device), t.untyped_storage().data_ptr(), int(t.storage_offset()))
    return (id(t.grad_fn), *where, tuple(t.shape), t.stride(), t.dtype)


@dataclass
class _Saved:
    field: str  # the attribute, e.g. "_saved_self", or "_saved_tensors" with an index
    index: int | None
    shape: list[int]
    dtype: str
    node: str | None  # found by the tensor's identity or its output key
    # When not found: a weak reference to the handle, which may be the identity view of a use
    # (known after the run: RunResult.aliases); weak, so that an op's own tensors are freed as usual.
    handle: weakref.ref[torch.Tensor] | None


@dataclass(frozen=True)
class Reached:
    """The autograd graph as `graph` numbers it: its nodes in order, their ids by id(), and the
    step over dagrad's per-use identity views (a node's next function -> the one it stands for)."""

    order: list[Any]
    ids: dict[int, int]
    through: Callable[[Any], Any]


@dataclass
class _Recorded:
    fn: Any  # the autograd node itself: held, so that its id() stays unique while we look
    owner: str | None
    saved: list[_Saved] = field(default_factory=list)


def _saved_tensors(fn: Any, fields: tuple[str, ...]) -> list[tuple[str, int | None, torch.Tensor]]:
    """fn's saved tensors: (attribute, index in a list of them or None, tensor)."""
    found: list[tuple[str, int | None, torch.Tensor]] = []
    for name in fields:
        try:
            value = getattr(fn, name)
        except RuntimeError:  # freed already (by a grad node's own backward, say): nothing to read
            continue
        if isinstance(value, torch.Tensor):
            found.append((name, None, value))
        elif isinstance(value, tuple | list):
            found += [(name, i, v) for i, v in enumerate(value) if isinstance(v, torch.Tensor)]
    return found


def _state(fn: Any, s: _Saved) -> SavedState:
    """What became of a saved tensor, read without the RuntimeError its field raises once a
    backward freed it (about 7 us each, most of what the graph costs on a small net): PyTorch's
    own SavedTensor behind the field (`_raw_saved_*`) holds no data then. A field that held a
    tensor when recorded is never None after."""
    try:
        raw = getattr(fn, "_raw" + s.field, None)
    except RuntimeError:  # a list of them, freed, raises as the field does
        raw = None
    if isinstance(raw, list | tuple):
        raw = raw[s.index] if s.index is not None and s.index < len(raw) else None
    if isinstance(raw, torch._C._autograd.SavedTensor) and raw.data is None:  # type: ignore[attr-defined]  # in PyTorch, not its stubs
        return "freed"
    return saved_state(fn, s.field) or "freed"


class BackwardGraphRecorder(Observer):
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.recorded: dict[int, _Recorded] = {}  # by id(fn), in the order found
        # Each node's value by id() (the latest node, after an in-place op), and by output key. The
        # interpreter keeps every value alive while the run lasts, so an id() stands for one tensor.
        self.by_object: dict[int, str] = {}
        self.by_output: dict[OutputKey, str] = {}
        self.grad_fn_of: dict[str, Any] = {}  # a node's grad_fn when its value was made
        self.roots: list[tuple[str, str | None, Any]] = []
        self.leaf_of: dict[int, str] = {}  # id(leaf tensor) -> its node
        self._reached: Reached | None = None

    def value(self, node: PlannedNode, value: torch.Tensor) -> None:
        self.by_object[id(value)] = node.id
        key = _output_key(value)
        if key is not None:
            self.by_output[key] = node.id
        if value.is_leaf and value.requires_grad:
            self.leaf_of[id(value)] = node.id
        self.grad_fn_of[node.id] = value.grad_fn
        if node.op.differentiates is not None:
            port = node.op.differentiates[0]
            source = next(e.source for e in node.inputs if e.port == port)
            if self.grad_fn_of.get(source) is not None:
                self.roots.append((node.id, port, self.grad_fn_of[source]))
            if value.grad_fn is not None:  # create_graph: the derivative's own graph
                self.roots.append((node.id, None, value.grad_fn))
        if self.plan.run.output == node.id and value.grad_fn is not None:
            self.roots.insert(0, (node.id, None, value.grad_fn))
        self._walk(value.grad_fn, node.id)

    def _walk(self, start: Any, owner: str) -> None:
        stack = [start]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in self.recorded:
                continue
            variable = getattr(fn, "variable", None)  # AccumulateGrad: the leaf
            who = self.leaf_of.get(id(variable), None) if isinstance(variable, torch.Tensor) else owner
            rec = self.recorded[id(fn)] = _Recorded(fn, who)
            for attribute, index, t in _saved_tensors(fn, saved_fields(fn)):
                node = self.by_object.get(id(t))
                if node is None and (key := _output_key(t)) is not None:
                    node = self.by_output.get(key)
                handle = weakref.ref(t) if node is None else None
                rec.saved.append(_Saved(attribute, index, list(t.shape), dtype_name(t.dtype), node, handle))
            stack.extend(nxt for nxt, _ in reversed(fn.next_functions))

    def reached(self, aliases: dict[Edge, torch.Tensor]) -> Reached:
        """The autograd nodes reachable from the roots, numbered as `graph` numbers them, the
        per-use identity views (`aliases`: RunResult.aliases, or Interpreter.aliases once the
        forward pass is done) stepped over. Walked once: the roots and the nodes are all known
        when the forward pass ends, and the backward steps ask for it then."""
        if self._reached is None:
            self._reached = self._reach(aliases)
        return self._reached

    def _reach(self, aliases: dict[Edge, torch.Tensor]) -> Reached:
        alias_fns = {id(a.grad_fn) for a in aliases.values() if a.grad_fn is not None}

        def through(fn: Any) -> Any:  # an alias's view leads straight on to the tensor it views
            while fn is not None and id(fn) in alias_fns:
                fn = fn.next_functions[0][0]
            return fn

        ids: dict[int, int] = {}
        order: list[Any] = []
        stack = [through(fn) for _, _, fn in reversed(self.roots)]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in ids or id(fn) not in self.recorded:
                continue
            ids[id(fn)] = len(order)
            order.append(fn)
            stack.extend(through(nxt) for nxt, _ in reversed(fn.next_functions))
        return Reached(order, ids, through)

    def owner(self, fn: Any) -> str | None:
        """The node whose op created `fn` (for AccumulateGrad, its leaf)."""
        rec = self.recorded.get(id(fn))
        return None if rec is None else rec.owner

    def graph(self, aliases: dict[Edge, torch.Tensor]) -> BackwardGraph:
        """What is reachable from the roots, after the run (or its failed backward), without the
        per-use identity views (`aliases`: RunResult.aliases)."""
        viewed = {id(a): edge.source for edge, a in aliases.items()}  # a use's view -> its tensor

        def named(s: _Saved) -> str | None:
            handle = None if s.handle is None else s.handle()
            return s.node if handle is None else viewed.get(id(handle))  # alive: compared with live views

        reached = self.reached(aliases)
        order, ids, through = reached.order, reached.ids, reached.through
        # Plain data, validated as one BackwardGraph: one call into pydantic's core rather than
        # some sixty models made one by one.
        nodes = []
        for i, fn in enumerate(order):
            rec = self.recorded[id(fn)]
            leads = [(slot, through(nxt)) for slot, (nxt, _) in enumerate(fn.next_functions)]
            edges = [{"to": ids[id(to)], "slot": slot} for slot, to in leads if id(to) in ids]
            saved = [
                {
                    "name": s.field[len(SAVED) :] + ("" if s.index is None else f"[{s.index}]"),
                    "shape": s.shape,
                    "dtype": s.dtype,
                    "node": named(s),
                    "state": _state(fn, s),
                }
                for s in rec.saved
            ]
            nodes.append({"id": i, "name": type(fn).__name__, "node": rec.owner, "next": edges, "saved": saved})
        roots = [
            {"node": nid, "port": port, "to": ids[id(through(fn))]}
            for nid, port, fn in self.roots
            if id(through(fn)) in ids
        ]
        return BackwardGraph.model_validate({"nodes": nodes, "roots": roots})

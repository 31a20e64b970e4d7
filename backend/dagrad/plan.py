"""What the compiler hands the interpreter: an immutable plan.

Nodes come in topological order, each with its inferred metadata and its wiring as edges,
built once by the compiler: a reader never looks at the document's `inputs` again. Every
field is a tuple, a frozen dataclass or a frozen pydantic model, so one plan can be read
by several threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, TypeVar

import torch

from dagrad.graph_format import Run
from dagrad.graph_meta import Check
from dagrad.ops.registry import Attrs, Cost, OpDef

T = TypeVar("T")


class TensorMeta(NamedTuple):
    """What the meta device tells about a node's value, before anything is allocated."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    requires_grad: bool
    is_leaf: bool


@dataclass(frozen=True)
class Edge:
    """One wire: `source`'s value feeds `port` of `consumer`, at `index` of a list port."""

    source: str
    consumer: str
    port: str
    index: int | None = None

    @property
    def slot(self) -> str:
        """The port as a user names it: 'input', or 'tensors[1]' for a list port."""
        return self.port if self.index is None else f"{self.port}[{self.index}]"


@dataclass(frozen=True)
class PlannedNode:
    id: str
    op: OpDef
    attrs: Attrs
    meta: TensorMeta
    inputs: tuple[Edge, ...]  # by port, a list port's edges in its order
    users: tuple[Edge, ...]  # every edge out of this node, in plan order
    # The input edge whose very tensor the op hands back, unchanged (flatten of a 1-D tensor): the
    # node's value is that tensor, as in PyTorch, and its uses are uses of it (Plan.shared).
    same_as: Edge | None = None
    no_grad: bool = False  # in a no_grad region: its op runs under torch.no_grad()

    def gather(self, value_of: Callable[[Edge], T]) -> dict[str, T | list[T]]:
        return gather(self.inputs, value_of)


def gather(edges: tuple[Edge, ...], value_of: Callable[[Edge], T]) -> dict[str, T | list[T]]:
    """An op's arguments from its input edges: port -> value_of(edge), a list for a list port."""
    args: dict[str, T | list[T]] = {}
    for edge in edges:
        value = value_of(edge)
        if edge.index is None:
            args[edge.port] = value
        else:
            listed = args.setdefault(edge.port, [])
            assert isinstance(listed, list)
            listed.append(value)
    return args


@dataclass(frozen=True)
class Plan:
    run: Run
    device: torch.device
    dtype: torch.dtype
    order: tuple[PlannedNode, ...]  # topological; sources come in document order within it
    # Weight sharing: nodes that require grad and feed several uses that send a gradient back,
    # with those uses; the node's gradient is the sum of theirs. A use through a node that is the
    # same tensor (PlannedNode.same_as) is a use of the shared node: its edge's source is that node.
    shared: Mapping[str, tuple[Edge, ...]]
    estimated_bytes: int
    estimated_flops: float  # forward, and backward × run.backward_passes (compiler/totals.py)
    costs: Mapping[str, Cost]  # each node's estimate, by id
    checks: tuple[Check, ...] = ()  # an exercise's: what the run's tensors are compared with (report/checks.py)

    @cached_property
    def nodes(self) -> Mapping[str, PlannedNode]:
        """Each node by id."""
        return {n.id: n for n in self.order}

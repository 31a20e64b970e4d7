"""What the compiler hands the interpreter: nodes in order, with their inferred meta."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from dagrad.graph_format import Run
from dagrad.ops.registry import Attrs, OpDef


class TensorMeta(NamedTuple):
    """What the meta device tells about a node's value, before anything is allocated."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    requires_grad: bool
    is_leaf: bool


@dataclass(frozen=True)
class Edge:
    """One wire: `source`'s value feeds `port` of `consumer` (`tensors[1]` for list ports)."""

    source: str
    consumer: str
    port: str


@dataclass
class PlannedNode:
    id: str
    op: OpDef
    attrs: Attrs
    inputs: dict[str, str | list[str]]
    meta: TensorMeta


@dataclass
class Plan:
    run: Run
    device: torch.device
    dtype: torch.dtype
    order: list[PlannedNode]  # topological; sources come in document order within it
    # Nodes whose value feeds several differentiable uses (weight sharing), with those uses.
    shared: dict[str, list[Edge]] = field(default_factory=dict)
    estimated_bytes: int = 0
    estimated_flops: float = 0.0

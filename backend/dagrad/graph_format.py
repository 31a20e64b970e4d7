"""The graph format, version 1: what a client writes and the engine reads.

A document is a list of nodes and one run configuration. A node names its op
(from the registry, `GET /api/ops`), its attributes (named as torch names its
arguments) and its inputs, wired by port name to the ids of other nodes.
Editor layout rides along in `layout` and never affects execution.
See docs/graph-format.md for the full description with examples.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dagrad.graph_meta import Meta
from dagrad.train_format import Train

NodeId = str


class Node(BaseModel):
    """One operation (or tensor source) of the graph."""

    model_config = ConfigDict(extra="forbid")

    id: NodeId = Field(min_length=1, max_length=100, description="Unique name of the node.")
    op: str = Field(description="Op name from the registry, e.g. 'matmul' or 'parameter'.")
    attrs: dict[str, Any] = Field(
        default_factory=dict,
        description="Attributes, named as the torch function names its arguments.",
    )
    inputs: dict[str, NodeId | list[NodeId]] = Field(
        default_factory=dict,
        description="Input port name -> id of the node feeding it (a list for list ports like cat's tensors).",
    )
    label: str | None = Field(None, description="Optional display name for the editor.")


class Run(BaseModel):
    """How to run the graph: seed, device, dtype, and what to differentiate."""

    model_config = ConfigDict(extra="forbid", frozen=True)  # a plan holds it

    # Numbers are strict (no "5" or true for 5): the document means what its schema says.
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True, description="Seed of the random sources.")
    training: bool = Field(
        True,
        strict=True,
        description="Train or eval mode, as a fresh nn.Module's module.training: batch_norm normalises with the "
        "batch's statistics and updates its running buffers, dropout drops; false: running statistics, no dropout.",
    )
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="'auto' takes cuda where the server has a GPU.")
    dtype: Literal["float32", "float64"] = Field(
        "float32", description="Dtype of floating point sources that name none."
    )
    output: NodeId | None = Field(None, description="Node to differentiate (the loss). Null runs forward only.")
    wrt: list[NodeId] | None = Field(
        None,
        description="Nodes to differentiate with respect to. Null: every tensor that requires grad.",
    )
    grad_output: Literal["sum", "ones"] | None = Field(
        None,
        description=(
            "Needed when the output is not a scalar: 'sum' differentiates output.sum(); "
            "'ones' calls output.backward(torch.ones_like(output)). Both give the same gradients."
        ),
    )
    backward_passes: int = Field(
        1,
        ge=1,
        strict=True,
        description="Call backward this many times: gradients accumulate into .grad, unless zero_grad.",
    )
    retain_graph: bool | None = Field(
        None,
        strict=True,
        description=(
            "What each backward passes as retain_graph. Null: true for every pass but the last, so that "
            "the passes can run and the last frees the graph. True: every pass keeps it. False: every pass "
            "frees it, as PyTorch's default does, so a second pass fails."
        ),
    )
    zero_grad: bool = Field(
        False,
        strict=True,
        description="Before each pass after the first, set every kept gradient to None (optimizer.zero_grad()).",
    )

    def retains(self, index: int) -> bool:
        """retain_graph of backward pass `index` (from 0)."""
        if self.retain_graph is None:
            return index < self.backward_passes - 1
        return self.retain_graph


class Region(BaseModel):
    """A part of the graph that runs under torch.no_grad(): its ops' results do not require grad,
    so backward does not go back through them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=100, description="Unique name of the region.")
    kind: Literal["no_grad"] = Field("no_grad", description="What the region does; 'no_grad' is the one kind.")
    nodes: list[NodeId] = Field(description="The nodes whose ops run under torch.no_grad().")
    label: str | None = Field(None, description="Optional display name for the editor.")


class Position(BaseModel):
    x: float = Field(strict=True)
    y: float = Field(strict=True)


class Graph(BaseModel):
    """A dagrad graph document (format version 1)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = Field(1, description="Format version; always 1.")
    title: str | None = None
    description: str | None = None
    nodes: list[Node] = Field(description="The nodes, in any order. Random sources draw in this order.")
    run: Run = Field(default_factory=Run)
    regions: list[Region] = Field(
        default_factory=list, description="Parts of the graph run under torch.no_grad(); none by default."
    )
    layout: dict[NodeId, Position] = Field(
        default_factory=dict, description="Editor positions by node id; ignored by the engine."
    )
    train: Train | None = Field(
        None, description="How to train the graph (POST /api/train, dagrad train); evaluate ignores it."
    )
    meta: Meta = Field(
        default_factory=Meta,
        description="Free-form data for tools (e.g. what the course prints), and an exercise's checks (meta.exercise).",
    )

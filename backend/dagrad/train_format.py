"""The graph document's optional `train` section: how to train the graph (docs/graph-format.md).

The optimiser's fields are named as torch.optim names its arguments, so that a section reads
as the line of PyTorch it stands for: {"name": "adam", "lr": 0.01} is torch.optim.Adam(params,
lr=0.01). A document without the section is format version 1 as before; evaluate ignores it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from dagrad.data import DataSpec

NodeId = str
# Each of Adam's betas lies in [0, 1), as torch.optim checks.
Beta = Annotated[float, Field(ge=0, lt=1, strict=True)]


class Sgd(BaseModel):
    """torch.optim.SGD."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # an lr or eps of inf trains to NaN

    name: Literal["sgd"] = "sgd"
    lr: float = Field(gt=0, strict=True, description="Learning rate; greater than 0.")
    momentum: float = Field(0.0, ge=0, strict=True)
    dampening: float = Field(0.0, strict=True)
    weight_decay: float = Field(0.0, ge=0, strict=True)
    nesterov: bool = Field(False, strict=True)


class Adam(BaseModel):
    """torch.optim.Adam."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # an lr or eps of inf trains to NaN

    name: Literal["adam"] = "adam"
    lr: float = Field(gt=0, strict=True, description="Learning rate; greater than 0.")
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0, strict=True)
    weight_decay: float = Field(0.0, ge=0, strict=True)


class AdamW(BaseModel):
    """torch.optim.AdamW (its weight decay is decoupled, and 0.01 by default as in torch)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # an lr or eps of inf trains to NaN

    name: Literal["adamw"] = "adamw"
    lr: float = Field(gt=0, strict=True, description="Learning rate; greater than 0.")
    betas: tuple[Beta, Beta] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0, strict=True)
    weight_decay: float = Field(0.01, ge=0, strict=True)


Optimizer = Annotated[Sgd | Adam | AdamW, Field(discriminator="name")]


class TrainData(BaseModel):
    """Where each step's mini-batch comes from, and which input nodes it feeds."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    dataset: DataSpec = Field(description="The dataset (dagrad.data): its name, size, noise, split and seed.")
    features: NodeId = Field(description="The input node the batch's features feed.")
    labels: NodeId = Field(description="The input or constant node the batch's labels feed.")
    batch_size: int = Field(32, ge=1, strict=True, description="Samples per step.")
    shuffle: bool = Field(True, strict=True, description="Shuffle the training set each epoch, by the seed.")


class Train(BaseModel):
    """How to train the graph: run.output is the loss, minimised by the optimiser."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    optimizer: Optimizer
    steps: int = Field(100, ge=1, strict=True, description="Optimiser steps; at least 1, at most the server's limit.")
    parameters: list[NodeId] | None = Field(
        None, description="The parameter nodes that train. Null: every source node with requires_grad."
    )
    zero_grad: bool = Field(
        True, strict=True, description="optimizer.zero_grad() each step; false lets gradients accumulate."
    )
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, strict=True, description="Seed of the shuffling and dropout. Null: run.seed."
    )
    data: TrainData | None = Field(
        None, description="The dataset that feeds a mini-batch per step. Null: the graph's own inputs every step."
    )
    predict: NodeId | None = Field(
        None,
        description="The node accuracy and the decision boundary read (logits or predictions). "
        "Null: the node feeding the loss's 'input' port.",
    )
    snapshot_every: int = Field(
        10,
        ge=1,
        strict=True,
        description="Steps between test figures and between snapshots streamed to the page (a "
        "snapshot is put off while snapshots would take over a fifth of the time).",
    )

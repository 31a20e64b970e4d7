"""What a training run answers: its history, step by step, and the trained graph."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dagrad.graph_format import Graph


class TrainPoint(BaseModel):
    """One optimiser step: the loss of the step's batch, before its update. Test figures are
    measured (in eval mode, under no_grad) every `snapshot_every` steps and at the last: null
    between, and where the graph has no dataset; accuracy only for a classification set."""

    step: int = Field(description="Steps taken, this one included (from 1).")
    loss: float
    test_loss: float | None = None
    accuracy: float | None = None
    test_accuracy: float | None = None


class TrainResult(BaseModel):
    history: list[TrainPoint]
    graph: Graph = Field(description="The document with each trained parameter (and buffer) as values.")
    steps: int = Field(description="Steps taken.")
    seconds: float = Field(description="Wall time of the steps.")
    reason: Literal["finished", "stopped", "time_limit"] = "finished"


class Boundary(BaseModel):
    """A 2-D classifier's prediction over a grid covering the data: row-major, y from lo to hi."""

    x: tuple[float, float]
    y: tuple[float, float]
    size: tuple[int, int] = Field(description="[H, W]")
    label: list[int]
    confidence: list[float]


class Curve(BaseModel):
    """A 1-D regression's prediction over the data's range."""

    x: list[float]
    y: list[float]

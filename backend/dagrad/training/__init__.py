"""Training a graph: the train section's checks and documents (binding.py), the loop that steps
torch.optim through dagrad's plan (trainer.py), and what it answers (results.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from dagrad.training.results import Boundary, Curve, TrainPoint, TrainResult
from dagrad.training.trainer import Trainer

__all__ = ["Boundary", "Curve", "TrainPoint", "TrainResult", "Trainer", "run_to_end"]


def run_to_end(
    trainer: Trainer, max_seconds: float, on_step: Callable[[TrainPoint], None] | None = None
) -> TrainResult:
    """Every step of the train section, or as many as `max_seconds` allows (reason time_limit).
    The test figures are measured every snapshot_every steps and at the last."""
    start = time.perf_counter()
    deadline = start + max_seconds
    history: list[TrainPoint] = []
    train = trainer.train
    reason = "finished"
    while trainer.steps < train.steps:
        if time.perf_counter() > deadline:
            reason = "time_limit"
            break
        point = trainer.step()
        if point.step % train.snapshot_every == 0 or point.step == train.steps:
            trainer.measure(point)
        history.append(point)
        if on_step is not None:
            on_step(point)
    if history and history[-1].test_loss is None:
        trainer.measure(history[-1])
    seconds = time.perf_counter() - start
    return TrainResult(
        history=history, graph=trainer.trained_graph(), steps=trainer.steps, seconds=seconds, reason=reason
    )

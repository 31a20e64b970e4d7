"""Datasets a training feeds a mini-batch per step (the train section's `data`).

Seeded 2-D classification sets (circle, xor, blobs, spirals, moons) with noise, 1-D regression
(sine, polynomial), and scikit-learn's 8x8 digits (shipped inside scikit-learn: no download).
The same spec gives the same tensors on every machine: every draw comes from one CPU generator
seeded with the spec's seed. `BatchOrder` gives the same batches for the same seed.

This module follows the data contract of issue 16 (DataSpec, load, Dataset, BatchOrder); a
fuller module with the same interface may replace it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

Name = Literal["circle", "xor", "blobs", "spirals", "moons", "sine", "polynomial", "digits"]
MAX_SAMPLES = 100_000


class DataSpec(BaseModel):
    """Which dataset, how large, how noisy, how split, from which seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(description="The dataset.")
    samples: int = Field(200, ge=2, le=MAX_SAMPLES, description="Samples in all (digits: at most 1797).")
    noise: float = Field(0.1, ge=0, le=10, description="Standard deviation of the noise added.")
    test_fraction: float = Field(0.2, ge=0, lt=1, description="Share of the samples held out for testing.")
    seed: int = Field(0, ge=0, description="Seed of the draws and of the split.")
    classes: int = Field(3, ge=2, le=10, description="Classes of 'blobs'.")
    degree: int = Field(3, ge=1, le=9, description="Degree of 'polynomial'.")


@dataclass(frozen=True)
class Dataset:
    train_x: torch.Tensor  # float32 [N, 2], [N, 1] or digits' [N, 64]
    train_y: torch.Tensor  # int64 [N] (classification) or float32 [N, 1] (regression)
    test_x: torch.Tensor
    test_y: torch.Tensor
    task: Literal["classification", "regression"]
    classes: int | None


def load(spec: DataSpec) -> Dataset:
    g = torch.Generator().manual_seed(spec.seed)
    x, y, task, classes = _MAKERS[spec.name](spec, g)
    order = torch.randperm(len(x), generator=g)  # the split: a shuffle, then the first part trains
    x, y = x[order], y[order]
    n_test = round(len(x) * spec.test_fraction)
    k = len(x) - n_test
    return Dataset(x[:k].contiguous(), y[:k].contiguous(), x[k:].contiguous(), y[k:].contiguous(), task, classes)


Made = tuple[torch.Tensor, torch.Tensor, Literal["classification", "regression"], int | None]


def _noise(spec: DataSpec, g: torch.Generator, *shape: int) -> torch.Tensor:
    return spec.noise * torch.randn(*shape, generator=g)


def _halves(n: int) -> torch.Tensor:
    return torch.arange(n) % 2


def _circle(spec: DataSpec, g: torch.Generator) -> Made:
    """Class 1 inside a circle of radius 0.5, class 0 on a ring from 0.7 to 1."""
    y = _halves(spec.samples)
    r = torch.where(
        y == 1, 0.5 * torch.rand(spec.samples, generator=g), 0.7 + 0.3 * torch.rand(spec.samples, generator=g)
    )
    a = 2 * math.pi * torch.rand(spec.samples, generator=g)
    x = torch.stack([r * torch.cos(a), r * torch.sin(a)], 1) + _noise(spec, g, spec.samples, 2)
    return x.float(), y, "classification", 2


def _xor(spec: DataSpec, g: torch.Generator) -> Made:
    """Points in [-1, 1]^2; class 1 where the coordinates' signs differ."""
    x = 2 * torch.rand(spec.samples, 2, generator=g) - 1
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).long()
    return (x + _noise(spec, g, spec.samples, 2)).float(), y, "classification", 2


def _blobs(spec: DataSpec, g: torch.Generator) -> Made:
    """`classes` Gaussian blobs on a circle of radius 1, each of spread 0.25 + noise."""
    y = torch.arange(spec.samples) % spec.classes
    angle = 2 * math.pi * y.double() / spec.classes
    centres = torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    x = centres + (0.25 + spec.noise) * torch.randn(spec.samples, 2, generator=g, dtype=torch.float64)
    return x.float(), y, "classification", spec.classes


def _spirals(spec: DataSpec, g: torch.Generator) -> Made:
    """Two interleaved spirals, one per class."""
    y = _halves(spec.samples)
    t = torch.sqrt(torch.rand(spec.samples, generator=g)) * 3 * math.pi
    a = t + math.pi * y
    x = torch.stack([t * torch.cos(a), t * torch.sin(a)], 1) / (3 * math.pi)
    return (x + _noise(spec, g, spec.samples, 2)).float(), y, "classification", 2


def _moons(spec: DataSpec, g: torch.Generator) -> Made:
    """scikit-learn's two moons: an upper half circle, and a lower one shifted right and down."""
    y = _halves(spec.samples)
    t = math.pi * torch.rand(spec.samples, generator=g)
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    x = torch.where((y == 1).unsqueeze(1), lower, upper)
    return (x + _noise(spec, g, spec.samples, 2)).float(), y, "classification", 2


def _sine(spec: DataSpec, g: torch.Generator) -> Made:
    x = 6 * torch.rand(spec.samples, 1, generator=g) - 3
    return x, (torch.sin(x) + _noise(spec, g, spec.samples, 1)).float(), "regression", None


def _polynomial(spec: DataSpec, g: torch.Generator) -> Made:
    """A polynomial of `degree` with coefficients drawn from N(0, 1), on [-1, 1]."""
    coefficients = torch.randn(spec.degree + 1, generator=g)
    x = 2 * torch.rand(spec.samples, 1, generator=g) - 1
    y = sum(c * x**i for i, c in enumerate(coefficients.tolist()))
    assert isinstance(y, torch.Tensor)
    return x, (y + _noise(spec, g, spec.samples, 1)).float(), "regression", None


def _digits(spec: DataSpec, g: torch.Generator) -> Made:
    """The first `samples` of scikit-learn's 1797 digits, pixels scaled to [0, 1] (no noise)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    n = min(spec.samples, len(d.target))
    x = torch.tensor(d.data[:n] / 16, dtype=torch.float32)
    return x, torch.tensor(d.target[:n], dtype=torch.int64), "classification", 10


_MAKERS = {
    "circle": _circle, "xor": _xor, "blobs": _blobs, "spirals": _spirals, "moons": _moons,
    "sine": _sine, "polynomial": _polynomial, "digits": _digits,
}  # fmt: skip


class BatchOrder:
    """Which rows each step takes: epochs of batch_size rows (the last partial batch of an epoch
    is dropped, so every batch has the same shape), a new permutation each epoch when shuffling,
    drawn from seed and epoch: step k's batch depends on nothing but (n, batch_size, shuffle,
    seed, k)."""

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int) -> None:
        if n < 1:
            raise ValueError("the training split is empty: use more samples or a smaller test_fraction")
        if batch_size > n:
            raise ValueError(f"batch_size {batch_size} is more than the {n} training samples")
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.per_epoch = n // batch_size
        self._epoch = -1
        self._perm = torch.arange(n)

    def indices(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if self.shuffle and epoch != self._epoch:
            self._perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))
            self._epoch = epoch
        return self._perm[i * self.batch_size : (i + 1) * self.batch_size]

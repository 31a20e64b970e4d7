"""The datasets themselves: seeded 2-D classification sets, 1-D regression and scikit-learn's digits.

Every set is drawn from its own `torch.Generator` seeded with the spec's seed, never the global
random state, so `load(spec)` is a pure function of the spec. Classification sets give every class
the same number of samples (the first `samples % classes` classes one more), then the samples are
shuffled with the same generator and the first `spec.test_count` become the test split.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from dagrad.data.spec import DataSpec
from dagrad.ops.datasets import DIGIT_PIXELS, DIGITS_COUNT, digit_images, digit_labels


@dataclass(frozen=True)
class Dataset:
    """Features float32 ([N, 2] for the 2-D sets, [N, 1] for regression, [N, 64] for digits);
    labels int64 [N] for classification, float32 [N, 1] for regression."""

    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
    task: Literal["classification", "regression"]
    classes: int | None  # None for regression


def _class_sizes(samples: int, classes: int) -> list[int]:
    return [samples // classes + (1 if k < samples % classes else 0) for k in range(classes)]


def _labels(sizes: list[int]) -> Tensor:
    return torch.cat([torch.full((n,), k, dtype=torch.int64) for k, n in enumerate(sizes)])


def _noisy(points: Tensor, spec: DataSpec, gen: torch.Generator) -> Tensor:
    return points + spec.noise * torch.randn(points.shape, generator=gen, dtype=torch.float64)


def _circle(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, int]:
    """Like sklearn's make_circles: class 0 on the unit circle, class 1 on a circle of radius 0.5."""
    sizes = _class_sizes(spec.samples, 2)
    angle = 2 * math.pi * torch.rand(spec.samples, generator=gen, dtype=torch.float64)
    radius = torch.cat([torch.ones(sizes[0], dtype=torch.float64), torch.full((sizes[1],), 0.5, dtype=torch.float64)])
    points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return _noisy(points, spec, gen), _labels(sizes), 2


def _moons(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, int]:
    """Like sklearn's make_moons: an upper half circle and a lower one shifted by (1, -0.5)."""
    sizes = _class_sizes(spec.samples, 2)
    t = math.pi * torch.rand(spec.samples, generator=gen, dtype=torch.float64)
    upper = torch.stack([torch.cos(t[: sizes[0]]), torch.sin(t[: sizes[0]])], dim=1)
    lower = torch.stack([1 - torch.cos(t[sizes[0] :]), 0.5 - torch.sin(t[sizes[0] :])], dim=1)
    return _noisy(torch.cat([upper, lower]), spec, gen), _labels(sizes), 2


def _xor(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, int]:
    """Four quadrants of [-1, 1]^2: class 1 where the signs of x and y differ. Points are drawn in
    equal numbers per quadrant, kept 0.1 away from the axes so the noise alone blurs the border."""
    sizes = _class_sizes(spec.samples, 4)
    signs = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
    quadrant = _labels(sizes)
    magnitude = 0.1 + 0.9 * torch.rand((spec.samples, 2), generator=gen, dtype=torch.float64)
    points = magnitude * signs[quadrant]
    return _noisy(points, spec, gen), (quadrant >= 2).to(torch.int64), 2


def _blobs(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, int]:
    """`classes` Gaussian blobs of standard deviation 0.3 + noise, their centres evenly spaced on a
    circle of radius 2 (so they are separable at low noise and overlap as the noise grows)."""
    sizes = _class_sizes(spec.samples, spec.classes)
    labels = _labels(sizes)
    angle = 2 * math.pi * torch.arange(spec.classes, dtype=torch.float64) / spec.classes
    centres = 2 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    spread = 0.3 * torch.randn((spec.samples, 2), generator=gen, dtype=torch.float64)
    return _noisy(centres[labels] + spread, spec, gen), labels, spec.classes


def _spirals(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, int]:
    """`classes` interleaved spiral arms (CS231n's spiral set): arm k at angle 4r + 2*pi*k/classes
    for radius r drawn uniformly in [0, 1], so each arm turns about two thirds of a circle."""
    sizes = _class_sizes(spec.samples, spec.classes)
    labels = _labels(sizes)
    r = torch.rand(spec.samples, generator=gen, dtype=torch.float64)
    angle = 4 * r + 2 * math.pi * labels.to(torch.float64) / spec.classes
    points = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)
    return _noisy(points, spec, gen), labels, spec.classes


def _sine(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, None]:
    """y = sin(x) + noise, x uniform in [-pi, pi]."""
    x = (2 * torch.rand((spec.samples, 1), generator=gen, dtype=torch.float64) - 1) * math.pi
    return x, _noisy(torch.sin(x), spec, gen), None


def _polynomial(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, None]:
    """y = sum_k c_k x^k + noise for k = 0..degree, the coefficients c_k standard normal drawn from
    the same generator, x uniform in [-1, 1] (where no power runs away from the others)."""
    coefficients = torch.randn(spec.degree + 1, generator=gen, dtype=torch.float64)
    x = 2 * torch.rand((spec.samples, 1), generator=gen, dtype=torch.float64) - 1
    powers = x ** torch.arange(spec.degree + 1, dtype=torch.float64)  # [N, degree + 1]
    return x, _noisy(powers @ coefficients.unsqueeze(1), spec, gen), None


def _digits(spec: DataSpec, gen: torch.Generator) -> tuple[Tensor, Tensor, int]:
    """`samples` of scikit-learn's 1,797 8x8 digits, picked by the generator, flattened to 64 pixels
    in [0, 1] (images / 16, as the digits data init gives them)."""
    pick = torch.randperm(DIGITS_COUNT, generator=gen)[: spec.samples]
    images = digit_images(DIGITS_COUNT, torch.float64).reshape(DIGITS_COUNT, DIGIT_PIXELS)
    return images[pick], digit_labels(DIGITS_COUNT, torch.int64)[pick], 10


Maker = Callable[[DataSpec, torch.Generator], tuple[Tensor, Tensor, int | None]]
MAKERS: dict[str, Maker] = {
    "circle": _circle,
    "xor": _xor,
    "blobs": _blobs,
    "spirals": _spirals,
    "moons": _moons,
    "sine": _sine,
    "polynomial": _polynomial,
    "digits": _digits,
}


def load(spec: DataSpec) -> Dataset:
    """The dataset the spec names, shuffled and split; the same spec always gives equal tensors."""
    gen = torch.Generator().manual_seed(spec.seed)
    x, y, classes = MAKERS[spec.name](spec, gen)
    order = torch.randperm(spec.samples, generator=gen)  # mix the classes before the split
    x, y = x[order].to(torch.float32), y[order]
    y = y if spec.task == "classification" else y.to(torch.float32)
    test = spec.test_count
    return Dataset(
        train_x=x[test:].contiguous(),
        train_y=y[test:].contiguous(),
        test_x=x[:test].contiguous(),
        test_y=y[:test].contiguous(),
        task=spec.task,
        classes=classes,
    )

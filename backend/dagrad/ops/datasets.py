"""Data a person recognises, for the sources' data inits: scikit-learn's 8x8 handwritten digits.

scikit-learn ships the digits inside its package (`sklearn.datasets.load_digits`: 1,797 images of
8x8 pixels, intensities 0 to 16, each labelled 0 to 9), so nothing is downloaded. Importing
scikit-learn takes about a second, so it happens on the first use of a digits init, once per
process, not when dagrad starts.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

DIGITS_COUNT = 1797  # images in load_digits()
DIGIT_PIXELS = 64  # 8 x 8
DIGIT_MAX = 16.0  # the brightest pixel: images are divided by it, to lie in [0, 1]


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # a second to import: only when asked

    bunch = load_digits()
    images, labels = bunch.images, bunch.target
    assert images.shape == (DIGITS_COUNT, 8, 8), images.shape
    images.setflags(write=False)  # shared by every run of the process
    labels.setflags(write=False)
    return images, labels


def digit_images(count: int, dtype: torch.dtype) -> torch.Tensor:
    """The first `count` digits, [count, 8, 8], as `torch.tensor(load_digits().images[:count] / 16)`."""
    images, _ = _digits()
    return torch.tensor(images[:count] / DIGIT_MAX, dtype=dtype)


def digit_labels(count: int, dtype: torch.dtype) -> torch.Tensor:
    """Their labels, [count], as `torch.tensor(load_digits().target[:count])`."""
    _, labels = _digits()
    return torch.tensor(labels[:count], dtype=dtype)

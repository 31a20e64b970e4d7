"""The statistics every payload carries, computed independently by PyTorch in float64, and the
one comparison the tests make of them (tests/test_payload.py, test_kept_tensors.py, test_cuda.py)."""

from __future__ import annotations

import math

import pytest
import torch

from dagrad.results import TensorStats


def expected_stats(t: torch.Tensor) -> dict[str, float]:
    x = t.detach().to(torch.float64)
    return {
        "min": x.min().item(),
        "max": x.max().item(),
        "mean": x.mean().item(),
        "std": x.std().item() if x.numel() > 1 else math.nan,
        "norm": x.norm().item(),
    }


def assert_stats_match(got: TensorStats | None, t: torch.Tensor, rel: float, abs: float = 1e-6) -> None:
    """`got` against PyTorch's statistics of the finite tensor `t`: std is null for one element."""
    assert got is not None
    for key, value in expected_stats(t).items():
        actual = getattr(got, key)
        if math.isnan(value):
            assert actual is None, key
        else:
            assert actual == pytest.approx(value, rel=rel, abs=abs), key
    assert (got.nan, got.inf) == (0, 0)

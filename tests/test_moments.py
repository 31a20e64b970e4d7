"""The C kernel dagrad._moments against float64 sums computed by PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from native import require_native

# Lengths around the kernel's lanes (16) and float32 blocks (1024): every tail is taken.
SIZES = [1, 2, 15, 16, 17, 1023, 1024, 1025, 4096 + 7, 100_003]


@pytest.fixture
def moments():  # type: ignore[no-untyped-def]
    require_native()
    from dagrad._moments import moments

    return moments


def oracle(t: torch.Tensor) -> tuple[float, float, float, float]:
    x = t.to(torch.float64)
    return x.min().item(), x.max().item(), x.sum().item(), (x * x).sum().item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("size", SIZES)
def test_matches_float64_sums(moments, dtype: torch.dtype, size: int) -> None:  # type: ignore[no-untyped-def]
    t = (torch.randn(size, generator=torch.Generator().manual_seed(size), dtype=torch.float64) * 3 + 0.5).to(dtype)
    lo, hi, s, q = moments(t.numpy())
    want_lo, want_hi, want_s, want_q = oracle(t)
    assert (lo, hi) == (want_lo, want_hi)  # min and max are exact
    # float32 sums are float32 within blocks: the error is bounded by the sum of magnitudes
    scale = t.to(torch.float64).abs().sum().item()
    tol = 1e-6 if dtype == torch.float32 else 1e-13
    assert s == pytest.approx(want_s, abs=tol * scale)
    assert q == pytest.approx(want_q, rel=tol)


@pytest.mark.parametrize("where", [0, 5, 1030, 99_999])
def test_nan_makes_the_sums_nan(moments, where: int) -> None:  # type: ignore[no-untyped-def]
    t = torch.randn(100_000)
    t[where] = math.nan
    _, _, s, q = moments(t.numpy())
    assert math.isnan(s)
    assert math.isnan(q)


@pytest.mark.parametrize("where", [3, 2048, 99_999])
def test_infinity_shows_in_max_and_sums(moments, where: int) -> None:  # type: ignore[no-untyped-def]
    t = torch.randn(100_000, dtype=torch.float64)
    t[where] = math.inf
    _, hi, s, q = moments(t.numpy())
    assert hi == math.inf
    assert s == math.inf
    assert q == math.inf


def test_refuses_what_it_cannot_read(moments) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="float32 or float64"):
        moments(np.arange(10))
    with pytest.raises(ValueError, match="empty"):
        moments(np.empty(0, dtype=np.float32))
    with pytest.raises(ValueError, match="contiguous"):
        moments(np.ones((10, 10), dtype=np.float32).T)
    with pytest.raises(TypeError, match="'>f'"):
        moments(np.ones(10, dtype=">f4"))  # big-endian: not the machine's floats
    with pytest.raises(TypeError):
        moments([1.0, 2.0])  # no buffer

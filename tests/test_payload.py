"""Tensor payloads: statistics against torch's own reductions, on every statistics path: the
batched GPU one (run on the CPU here), and the CPU one with and without the C kernel."""

from __future__ import annotations

import math

import pytest
import torch

from dagrad import payload
from dagrad.payload import _cpu_stats, _device_stats, stats
from dagrad.results import TensorStats
from native import require_native
from stats_oracle import assert_stats_match

CASES = {
    "small": torch.tensor([1.0, -2.0, 4.0]),
    "large": torch.randn(3, 5000, generator=torch.Generator().manual_seed(1)) * 3 + 1,
    "large_offset": torch.randn(20000, generator=torch.Generator().manual_seed(2)) + 1e4,
    "float64": torch.randn(70, 90, dtype=torch.float64, generator=torch.Generator().manual_seed(3)),
    "ints": torch.tensor([3, 1, 4, 1, 5]),
    "single": torch.tensor([2.5]),
    # past 65,536 elements: PyTorch's row reductions where the C kernel is not built
    "huge": torch.randn(300_001, generator=torch.Generator().manual_seed(5)) * 2 - 3,
    "huge_offset": torch.randn(70_000, generator=torch.Generator().manual_seed(6)) + 1e4,
    "huge_float64": torch.randn(4, 30_001, dtype=torch.float64, generator=torch.Generator().manual_seed(7)),
    "huge_transposed": torch.randn(300, 400, generator=torch.Generator().manual_seed(8)).t(),
}


@pytest.fixture(params=["c_kernel", "torch"], autouse=True)
def large_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs twice: with dagrad._moments, and with PyTorch's and numpy's reductions
    as an install without a C compiler has them."""
    if request.param == "c_kernel":
        require_native()
    else:
        monkeypatch.setattr(payload, "_one_pass", None)
    return str(request.param)


def check(got: TensorStats, t: torch.Tensor) -> None:
    assert_stats_match(got, t, rel=1e-5 if t.dtype == torch.float32 else 1e-9)


@pytest.mark.parametrize("name", list(CASES))
def test_stats_match_torch(name: str) -> None:
    check(stats(CASES[name]), CASES[name])


@pytest.mark.parametrize("name", list(CASES))
def test_batched_device_stats_match_torch(name: str) -> None:
    # The GPU path runs on any device; on the CPU it must give the same numbers.
    [got] = _device_stats([CASES[name]])
    check(got, CASES[name])


@pytest.mark.parametrize("path", [stats, lambda t: _device_stats([t])[0]])
@pytest.mark.parametrize("size", [10_000, 100_000])
def test_non_finite_values_are_counted(path: object, size: int) -> None:
    big = torch.randn(size)
    big[5], big[7], big[-1] = math.nan, math.inf, -math.inf
    got = path(big)  # type: ignore[operator]
    assert (got.nan, got.inf) == (1, 2)
    assert got.mean is None
    assert got.min is None
    assert got.max is None


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_an_infinity_alone_is_counted(value: float) -> None:
    big = torch.randn(100_000)
    big[-3] = value
    got = stats(big)
    assert (got.nan, got.inf) == (0, 1)
    assert (got.max if value > 0 else got.min) is None  # not finite: reported as null
    assert got.mean is None


def test_float32_overflow_in_the_sum_of_squares_falls_back() -> None:
    # 1e20² overflows float32: the statistics are then taken by PyTorch's exact path
    big = torch.full((100_000,), 1e20)
    got = stats(big)
    assert got.min == pytest.approx(1e20, rel=1e-6)
    assert got.mean == pytest.approx(1e20, rel=1e-6)
    assert got.std == 0.0  # a constant: without the fallback, the overflowed sums would leave it null
    assert math.isinf(big.norm().item())  # PyTorch's float32 norm overflows here too: reported as null
    assert got.norm is None
    assert (got.nan, got.inf) == (0, 0)


def test_empty_tensor() -> None:
    for got in (stats(torch.empty(0)), _device_stats([torch.empty(0, 3)])[0]):
        assert got.min is None
        assert got.norm is None
        assert got.nan == 0


def test_batched_stats_of_many_tensors_at_once() -> None:
    tensors = [*CASES.values(), torch.empty(0), CASES["small"] * 2]
    got = _device_stats(tensors)
    assert got[len(CASES)].min is None
    for t, st in zip(tensors, got, strict=True):
        if t.numel():
            check(st, t)


def test_many_cpu_tensors_at_once_small_ones_reduced_together() -> None:
    # _cpu_stats joins the small floating point tensors and reduces them segment by segment; the
    # others go one by one. Each must still get its own statistics, in its own place.
    odd = torch.tensor([1.0, math.nan, 3.0, math.inf])
    base = torch.randn(6, 7, generator=torch.Generator().manual_seed(4))
    tensors = [*CASES.values(), torch.empty(0), odd, base, base.view(-1), base.t(), torch.full((5,), 7.0)]
    got = _cpu_stats(tensors, [None] * len(tensors))
    assert len(got) == len(tensors)
    for t, st in zip(tensors, got, strict=True):
        if t.numel() == 0:
            assert st.min is None
        elif t is odd:
            assert (st.nan, st.inf) == (1, 1)
            assert st.mean is None
        else:
            check(st, t)
    assert got[-1].std == 0.0  # a constant: the mean dominates, the exact second pass gives 0

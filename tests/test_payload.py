"""Statistics against PyTorch's own reductions in float64 (tests/stats_oracle.py), on every path
of report/stats.py, each reached by a tensor past its threshold: the CPU's float64 reductions
(small float32, float64, integers and bools, the last two converted chunk by chunk), its rows
(float32 past _ROW elements), the second pass when the mean dominates, the exact path (NaN and
inf, float32 overflow), and the GPU's path (exact_stats, which runs on any device) with its
small (segment) and large branches."""

from __future__ import annotations

import math

import pytest
import torch

from dagrad.report import stats as stats_module
from dagrad.report.stats import exact_stats, stats_of
from dagrad.results import TensorStats
from stats_oracle import assert_stats_match


def _randn(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


ROW, CHUNK, SEGMENT = stats_module._ROW, stats_module._CHUNK, stats_module._SEGMENT_MAX
CASES = {
    "float32 small": torch.tensor([1.0, -2.0, 4.0]),
    "float32 one row": _randn(ROW, seed=1),
    "float32 rows": _randn(3, 5000, seed=1) * 3 + 1,
    "float32 rows, exact multiple": _randn(8 * ROW, seed=2) - 2,
    "float32 rows, offset": _randn(20000, seed=2) + 1e4,
    "float32 rows, past the segments": _randn(300_001, seed=5) * 2 - 3,
    "float32 rows, transposed": _randn(300, 400, seed=8).t(),
    "float32 small, offset": _randn(500, seed=9) + 1e4,
    "float64": _randn(70, 90, seed=3, dtype=torch.float64),
    "float64 large": _randn(4, 300_001, seed=7, dtype=torch.float64),
    "float64 offset": _randn(70_000, seed=6, dtype=torch.float64) + 1e6,
    "int64": torch.tensor([3, 1, 4, 1, 5]),
    "int64 in chunks": torch.randint(-50, 50, (CHUNK * 2 + 7,), generator=torch.Generator().manual_seed(10)),
    "bool in chunks": torch.rand(CHUNK + 3, generator=torch.Generator().manual_seed(11)) > 0.3,
    "single": torch.tensor([2.5]),
    "constant": torch.full((5000,), 7.0),
}
assert CASES["float32 rows, past the segments"].numel() > SEGMENT
assert CASES["int64 in chunks"].numel() > 2 * CHUNK


def check(got: TensorStats, t: torch.Tensor) -> None:
    assert_stats_match(got, t, rel=1e-5 if t.dtype == torch.float32 else 1e-9)


@pytest.mark.parametrize("name", list(CASES))
def test_stats_match_torch(name: str) -> None:
    [got] = stats_of([CASES[name]])
    check(got, CASES[name])


@pytest.mark.parametrize("name", list(CASES))
def test_the_gpu_path_matches_torch(name: str) -> None:
    [got] = exact_stats([CASES[name]])
    check(got, CASES[name])


def test_many_tensors_at_once_each_in_its_place() -> None:
    tensors = [*CASES.values(), torch.empty(0), CASES["float32 small"] * 2]
    for path in (stats_of, exact_stats):
        got = path(tensors)
        assert len(got) == len(tensors)
        for t, st in zip(tensors, got, strict=True):
            if t.numel():
                check(st, t)
            else:
                assert (st.min, st.norm, st.nan, st.inf) == (None, None, 0, 0)


def test_a_constant_has_std_zero() -> None:
    # The mean dominates: sum(x²) - n·mean² cancels to rounding noise; the second pass gives 0.
    for t in (torch.full((5000,), 7.0), torch.full((50,), 7.0), torch.full((50,), 1e6, dtype=torch.float64)):
        [got] = stats_of([t])
        assert got.std == 0.0


@pytest.mark.parametrize("path", [stats_of, exact_stats])
@pytest.mark.parametrize("size", [10, 10_000, 100_000])
def test_non_finite_values_are_counted(path: object, size: int) -> None:
    big = _randn(size, seed=12)
    big[5], big[7], big[-1] = math.nan, math.inf, -math.inf
    [got] = path([big])  # type: ignore[operator]
    assert (got.nan, got.inf) == (1, 2)
    assert (got.min, got.max, got.mean, got.std, got.norm) == (None,) * 5


@pytest.mark.parametrize("value", [math.inf, -math.inf])
@pytest.mark.parametrize("size", [10, 100_000])
def test_an_infinity_alone_is_counted_and_the_other_end_kept(value: float, size: int) -> None:
    big = _randn(size, seed=13)
    big[-3] = value
    [got] = stats_of([big])
    finite = big[torch.isfinite(big)]
    assert (got.nan, got.inf) == (0, 1)
    assert (got.max if value > 0 else got.min) is None  # not finite: reported as null
    if value > 0:
        assert got.min == finite.min().item()
    else:
        assert got.max == finite.max().item()
    assert got.mean is None
    assert got.norm is None


def test_float32_overflow_in_the_sum_of_squares_falls_back() -> None:
    # 1e20² overflows float32: the statistics are then taken by the exact path, whose norm is
    # accumulated in float64 (PyTorch's own float32 norm overflows to inf here; the true norm,
    # 3.2e22, fits a float32).
    big = torch.full((100_000,), 1e20)
    [got] = stats_of([big])
    assert math.isinf(big.norm().item())
    assert_stats_match(got, big, rel=1e-6)
    assert got.std == 0.0


def test_a_float32_mean_past_float32s_range_is_null() -> None:
    # Each element fits float32 but the mean of the float64 sums is reported as float32 holds it.
    big = torch.full((2000,), 3e38)
    [got] = stats_of([big])
    assert got.min == pytest.approx(3e38, rel=1e-6)
    assert got.mean == pytest.approx(3e38, rel=1e-6)
    assert got.norm is None  # sqrt(2000) * 3e38 is past float32's range, as torch.norm gives inf

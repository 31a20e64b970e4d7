"""The statistics of a max-pooling's input gradient, derived from its output gradient's instead of
read (Interpreter.routed_grads, payload.Noted.note_routed), must be PyTorch's statistics of the
gradient itself: over disjoint windows, where they are derived, and everywhere they must not be
(overlapping or dilated windows, other uses, in-place writes, several passes, NaN)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from dagrad import payload
from dagrad.payload import _FLOAT64_SUM_MAX
from dagrad.results import EvaluateResponse
from graph_builder import GraphBuilder
from stats_oracle import assert_stats_match

SHAPE_2D = [4, 8, 60, 61]
SHAPE_1D = [8, 16, 400]


def pool_graph(
    op: str, shape: list[int], attrs: dict[str, Any], *, relu_first: bool = False, passes: int = 1
) -> GraphBuilder:
    """x (input) * w (parameter) = c, [relu], pool, * v (parameter), sum: c's gradient is the
    pool's input gradient, and v makes the pool's output gradient take both signs."""
    b = GraphBuilder(seed=11, dtype="float32")
    x = b.input("x", shape=shape, init="normal")
    w = b.parameter("w", shape=shape, init="normal")
    c = b.op("mul", "c", input=x, other=w)
    if relu_first:  # many windows of zeros only: ties, the first of which max-pooling picks
        c = b.op("relu", "c_relu", input=c)
    pooled = b.op(op, "pool", attrs=attrs, input=c)
    out_shape = list(getattr(F, op)(torch.empty(shape, device="meta"), **attrs).shape)
    v = b.parameter("v", shape=out_shape, init="normal")
    scaled = b.op("mul", "scaled", input=pooled, other=v)
    loss = b.op("sum", "loss", input=scaled)
    b.run(output=loss, backward_passes=passes)
    return b


def torch_grads(op: str, shape: list[int], attrs: dict[str, Any], relu_first: bool = False) -> dict[str, torch.Tensor]:
    """The same graph in PyTorch, its sources drawn as dagrad draws them: one generator, node order."""
    gen = torch.Generator().manual_seed(11)
    x = torch.empty(shape).normal_(generator=gen)
    w = torch.empty(shape).normal_(generator=gen).requires_grad_()
    c = x * w
    c.retain_grad()
    last = c
    if relu_first:
        last = F.relu(c)
        last.retain_grad()
    pooled = getattr(F, op)(last, **attrs)
    pooled.retain_grad()
    v = torch.empty(pooled.shape).normal_(generator=gen)
    (pooled * v).sum().backward()
    grads = {"c": c.grad, "pool": pooled.grad}
    if relu_first:
        grads["c_relu"] = last.grad
    return {k: g for k, g in grads.items() if g is not None}


def reads_of(numel: int, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many tensors of `numel` elements payload reads for their statistics during a run."""
    seen: list[int] = []
    real = payload._large_moments

    def spy(x: torch.Tensor) -> payload.Moments:
        if x.numel() == numel:
            seen.append(numel)
        return real(x)

    monkeypatch.setattr(payload, "_large_moments", spy)
    return lambda: len(seen)


CASES = [
    # op, shape, attrs, derived?
    ("max_pool2d", SHAPE_2D, {"kernel_size": 3}, True),
    ("max_pool2d", SHAPE_2D, {"kernel_size": 2, "stride": 3}, True),  # gaps between windows
    ("max_pool2d", SHAPE_2D, {"kernel_size": [2, 3], "stride": [2, 3]}, True),
    ("max_pool2d", SHAPE_2D, {"kernel_size": 3, "padding": 1, "ceil_mode": True}, True),
    ("max_pool1d", SHAPE_1D, {"kernel_size": 4}, True),
    ("max_pool2d", SHAPE_2D, {"kernel_size": 3, "stride": 2}, False),  # windows overlap
    ("max_pool2d", SHAPE_2D, {"kernel_size": [3, 2], "stride": 2}, False),  # overlap along one dimension
    ("max_pool2d", SHAPE_2D, {"kernel_size": 2, "dilation": 2}, False),  # dilated windows interleave
]


@pytest.mark.parametrize(("op", "shape", "attrs", "derived"), CASES)
def test_input_gradient_statistics_match_torch(
    op: str, shape: list[int], attrs: dict[str, Any], derived: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert math.prod(shape) > _FLOAT64_SUM_MAX
    reads = reads_of(math.prod(shape), monkeypatch)
    nodes = pool_graph(op, shape, attrs).evaluate().nodes
    want = torch_grads(op, shape, attrs)
    assert want["pool"].numel() > _FLOAT64_SUM_MAX  # noted, so that the derivation can happen
    for nid in ("c", "pool"):
        grad = nodes[nid].grad
        assert grad is not None
        assert_stats_match(grad.stats, want[nid], rel=1e-5, abs=1e-7)
    # x, w, c's value and w's gradient are read; c's gradient only where it is not derived
    assert reads() == (4 if derived else 5)


def test_ties_in_windows_of_zeros() -> None:
    attrs = {"kernel_size": 3}
    nodes = pool_graph("max_pool2d", SHAPE_2D, attrs, relu_first=True).evaluate().nodes
    want = torch_grads("max_pool2d", SHAPE_2D, attrs, relu_first=True)
    for nid in ("c", "c_relu", "pool"):
        grad = nodes[nid].grad
        assert grad is not None
        assert_stats_match(grad.stats, want[nid], rel=1e-5, abs=1e-7)


def evaluate_counting_reads(b: GraphBuilder, monkeypatch: pytest.MonkeyPatch) -> tuple[EvaluateResponse, int]:
    reads = reads_of(math.prod(SHAPE_2D), monkeypatch)
    response = b.evaluate()
    return response, reads()


def test_a_second_use_adds_to_the_gradient_so_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # loss + sum(c): c's gradient is the pool's input gradient plus ones, not the pool's alone
    b = pool_graph("max_pool2d", SHAPE_2D, {"kernel_size": 3})
    also = b.op("sum", "also", input="c")
    b.run(output=b.op("add", "total", input="loss", other=also))
    response, reads = evaluate_counting_reads(b, monkeypatch)
    want = torch_grads("max_pool2d", SHAPE_2D, {"kernel_size": 3})["c"] + 1.0
    grad = response.nodes["c"].grad
    assert grad is not None
    assert_stats_match(grad.stats, want, rel=1e-5, abs=1e-7)
    assert reads == 5 + 2  # and each use's share of c's gradient (c is shared)


def test_several_backward_passes_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    b = pool_graph("max_pool2d", SHAPE_2D, {"kernel_size": 3}, passes=2)
    response, reads = evaluate_counting_reads(b, monkeypatch)
    want = torch_grads("max_pool2d", SHAPE_2D, {"kernel_size": 3})["c"] * 2
    grad = response.nodes["c"].grad
    assert grad is not None
    assert_stats_match(grad.stats, want, rel=1e-5, abs=1e-7)
    assert reads == 5 + 1  # c's gradient read as the first pass hands it over, then the sum of both


def pooled_product(b: GraphBuilder) -> str:
    """x (input) * w (parameter) = c, then max_pool2d(c, 3); returns the pool's node id."""
    x = b.input("x", shape=SHAPE_2D, init="normal")
    w = b.parameter("w", shape=SHAPE_2D, init="normal")
    c = b.op("mul", "c", input=x, other=w)
    return b.op("max_pool2d", "pool", attrs={"kernel_size": 3}, input=c)


def torch_product(gen: torch.Generator) -> torch.Tensor:
    """c = x * w, drawn as pooled_product's sources are, keeping its gradient."""
    x = torch.empty(SHAPE_2D).normal_(generator=gen)
    w = torch.empty(SHAPE_2D).normal_(generator=gen).requires_grad_()
    c = x * w
    c.retain_grad()
    return c


def test_a_pooled_value_written_in_place_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # relu(inplace=True) on the pool's value: a hook on that tensor sees the gradient of the relu's
    # output, not the pool's output gradient, so nothing may be derived from it.
    b = GraphBuilder(seed=11, dtype="float32")
    pooled = pooled_product(b)
    relu = b.op("relu", "relu", attrs={"inplace": True}, input=pooled)
    v = b.parameter("v", shape=[4, 8, 20, 20], init="normal")
    loss = b.op("sum", "loss", input=b.op("mul", "scaled", input=relu, other=v))
    b.run(output=loss)
    response, reads = evaluate_counting_reads(b, monkeypatch)

    gen = torch.Generator().manual_seed(11)
    ct = torch_product(gen)
    vt = torch.empty(4, 8, 20, 20).normal_(generator=gen)
    (F.relu(F.max_pool2d(ct, 3), inplace=True) * vt).sum().backward()
    grad = response.nodes["c"].grad
    assert grad is not None
    assert ct.grad is not None
    assert_stats_match(grad.stats, ct.grad, rel=1e-5, abs=1e-7)
    assert reads == 5


def test_nan_in_the_output_gradient_is_counted_exactly() -> None:
    # v = log(u) with u in [-1, 1]: NaN in about half of the pool's output gradient, which
    # max-pooling hands on to c's gradient, one element each.
    b = GraphBuilder(seed=11, dtype="float32")
    pooled = pooled_product(b)
    u = b.input("u", shape=[4, 8, 20, 20], init="uniform", low=-1.0, high=1.0)
    v = b.op("log", "v", input=u)
    loss = b.op("sum", "loss", input=b.op("mul", "scaled", input=pooled, other=v))
    b.run(output=loss)
    nodes = b.evaluate().nodes

    gen = torch.Generator().manual_seed(11)
    ct = torch_product(gen)
    ut = torch.empty(4, 8, 20, 20).uniform_(-1.0, 1.0, generator=gen)
    (F.max_pool2d(ct, 3) * torch.log(ut)).sum().backward()
    assert ct.grad is not None
    grad = nodes["c"].grad
    assert grad is not None
    assert grad.stats.nan == int(ct.grad.isnan().sum()) > 0
    assert grad.stats.inf == 0
    assert grad.stats.mean is None
    assert grad.stats.min is None


def test_a_gradient_of_one_sign_has_the_zeros_as_its_minimum() -> None:
    # sum(pool): ones in the pool's output gradient; c's gradient is ones and zeros, so min is 0
    b = GraphBuilder(seed=11, dtype="float32")
    pooled = pooled_product(b)
    b.run(output=b.op("sum", "loss", input=pooled))
    grad = b.evaluate().nodes["c"].grad
    assert grad is not None
    assert (grad.stats.min, grad.stats.max) == (0.0, 1.0)
    assert grad.stats.mean == pytest.approx(20 * 20 / (60 * 61), rel=1e-6)

"""What a run keeps while it runs: statistics of large tensors taken as they are made
(payload.EarlyStats) must equal those of the tensors as the run leaves them (after in-place
changes, after several backward passes); gradients kept by backward hooks must equal what
retain_grad() keeps; and nothing may keep a run's tensors alive once evaluate returns."""

from __future__ import annotations

import gc
import math
import weakref

import pytest
import torch
import torch.nn.functional as F

from dagrad.interpreter import Interpreter, RunResult
from dagrad.payload import _FLOAT64_SUM_MAX
from dagrad.results import TensorStats
from graph_builder import GraphBuilder, decode
from stats_oracle import assert_stats_match

SHAPE = [300, 400]  # large enough to be summarised during the run
assert math.prod(SHAPE) > _FLOAT64_SUM_MAX


def check(got: TensorStats | None, want: torch.Tensor) -> None:
    assert_stats_match(got, want, rel=1e-5)


@pytest.mark.parametrize("passes", [1, 2])
def test_large_values_and_gradients_match_torch(passes: int) -> None:
    b = GraphBuilder(seed=3, dtype="float32")
    p = b.parameter("p", shape=SHAPE, init="normal")
    h = b.op("mul", "h", input=p, other=p)
    t = b.op("tanh", "t", input=h)
    loss = b.op("sum", "loss", input=t)
    nodes = b.run(output=loss, backward_passes=passes).evaluate().nodes

    gen = torch.Generator().manual_seed(3)
    pt = torch.empty(SHAPE).normal_(generator=gen).requires_grad_()
    ht = pt * pt
    tt = torch.tanh(ht)
    for v in (ht, tt):
        v.retain_grad()
    for i in range(passes):
        tt.sum().backward(retain_graph=i < passes - 1)
    for nid, v in {"p": pt, "h": ht, "t": tt}.items():
        check(nodes[nid].value.stats, v)
        grad = nodes[nid].grad
        assert grad is not None
        assert v.grad is not None
        check(grad.stats, v.grad)


def test_a_value_changed_in_place_later_is_summarised_as_it_ends() -> None:
    # relu(inplace=True) overwrites b's first row, through a view of it, after b was made:
    # b's statistics must be those of b as the run leaves it.
    b = GraphBuilder(seed=5, dtype="float32")
    a = b.input("a", shape=SHAPE, init="normal")
    neg = b.op("neg", "b", input=a)
    row = b.op("index", "row", attrs={"index": 0}, input=neg)
    b.op("relu", "r", attrs={"inplace": True}, input=row)
    nodes = b.evaluate().nodes

    at = torch.empty(SHAPE).normal_(generator=torch.Generator().manual_seed(5))
    bt = -at
    F.relu(bt[0], inplace=True)
    assert nodes["b"].value.stats.min < 0.0
    check(nodes["b"].value.stats, bt)
    check(nodes["r"].value.stats, bt[0])


def test_a_runs_tensors_are_freed_when_evaluate_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hooks and the statistics memo must not form a reference cycle with the tensors: the run's
    # memory would then stay taken until the garbage collector happened to pass (or for good).
    made: list[weakref.ref[torch.Tensor]] = []
    run = Interpreter.run

    def noting(self: Interpreter) -> RunResult:
        result = run(self)
        made.extend(weakref.ref(t) for t in result.env.values())
        made.extend(weakref.ref(t.grad) for t in result.env.values() if t.is_leaf and t.grad is not None)
        made.extend(weakref.ref(g) for g in result.grads.values())
        return result

    monkeypatch.setattr(Interpreter, "run", noting)
    b = GraphBuilder(seed=1, dtype="float32")
    p = b.parameter("p", shape=SHAPE, init="normal")
    h = b.op("tanh", "h", input=p)
    b.op("sum", "loss", input=h)
    b.run(output="loss")
    gc.collect()
    gc.disable()
    try:
        b.evaluate()
        alive = [ref() for ref in made if ref() is not None]
    finally:
        gc.enable()
    assert len(made) == 6  # p, h, loss and their gradients
    assert alive == []


def test_a_kept_gradient_is_not_changed_by_the_rest_of_backward() -> None:
    # x's gradient flows on, unchanged, into y's (add passes it through), where a second
    # contribution (from tanh) is added: autograd must not add it in place into the tensor kept
    # as x's gradient. Checked against retain_grad, which keeps a copy.
    b = GraphBuilder(seed=2, dtype="float64")
    p = b.parameter("p", shape=[4, 5], init="normal")
    c = b.input("c", shape=[4, 5], init="normal")
    y = b.op("exp", "y", input=p)
    x = b.op("add", "x", input=y, other=p)
    z = b.op("mul", "z", input=x, other=c)
    w = b.op("tanh", "w", input=y)
    s = b.op("add", "s", input=z, other=w)
    b.op("sum", "loss", input=s)
    nodes = b.run(output="loss").evaluate().nodes

    gen = torch.Generator().manual_seed(2)
    pt = torch.empty(4, 5, dtype=torch.float64).normal_(generator=gen).requires_grad_()
    ct = torch.empty(4, 5, dtype=torch.float64).normal_(generator=gen)
    yt = pt.exp()
    xt = yt + pt
    zt = xt * ct
    wt = yt.tanh()
    st = zt + wt
    for t in (yt, xt, zt, wt, st):
        t.retain_grad()
    st.sum().backward()
    for nid, t in {"p": pt, "y": yt, "x": xt, "z": zt, "w": wt, "s": st}.items():
        torch.testing.assert_close(decode(nodes[nid].grad), t.grad, msg=nid)

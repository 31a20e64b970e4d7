"""What the interpreter keeps: values as the run leaves them (after in-place changes) and
gradients summed over several backward passes, whose statistics must be PyTorch's; gradients kept
by backward hooks must equal what retain_grad() keeps; an Observer sees each value as it is made
and each backward pass as it ends; and nothing may keep a run's tensors alive once evaluate
returns."""

from __future__ import annotations

import gc
import math
import weakref

import pytest
import torch
import torch.nn.functional as F

from dagrad.engine import Engine
from dagrad.interpreter import Interpreter, Observer, RunResult
from dagrad.plan import PlannedNode
from dagrad.results import PayloadOptions, TensorStats
from graph_builder import GraphBuilder, decode
from stats_oracle import assert_stats_match

SHAPE = [300, 400]  # past every size threshold of the statistics (report/stats.py)
assert math.prod(SHAPE) > 2**16


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
    # Hooks must not form a reference cycle with the tensors: the run's memory would then stay
    # taken until the garbage collector happened to pass (or for good).
    made: list[weakref.ref[torch.Tensor]] = []
    run = Interpreter.run

    def noting(self: Interpreter) -> RunResult:
        result = run(self)
        made.extend(weakref.ref(t) for t in result.values.values())
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


class Recorder(Observer):
    """Copies of each value as it is made, and of p's .grad after each backward pass."""

    def __init__(self, leaf: str) -> None:
        self.leaf = leaf
        self.values: dict[str, torch.Tensor] = {}
        self.node_values: dict[str, torch.Tensor] = {}
        self.grads_after_pass: list[torch.Tensor] = []

    def value(self, node: PlannedNode, value: torch.Tensor) -> None:
        self.values[node.id] = value.detach().clone()
        self.node_values[node.id] = value

    def backward_done(self, index: int) -> None:
        grad = self.node_values[self.leaf].grad
        assert grad is not None
        self.grads_after_pass.append(grad.clone())


def test_an_observer_sees_values_as_made_and_gradients_pass_by_pass() -> None:
    # e is overwritten later by an in-place relu: the observer sees it before, the response after.
    b = GraphBuilder(seed=4, dtype="float64")
    p = b.parameter("p", shape=[6], init="normal")
    e = b.op("mul", "e", input=p, other=p)
    n = b.op("neg", "n", input=e)
    b.op("relu", "r", attrs={"inplace": True}, input=n)
    b.op("sum", "loss", input=e)
    b.run(output="loss", backward_passes=3)
    recorder = Recorder("p")
    response = Engine().evaluate(b.graph(), PayloadOptions(full=["*"]), observer=recorder)

    pt = torch.empty(6, dtype=torch.float64).normal_(generator=torch.Generator().manual_seed(4)).requires_grad_()
    nt = -(pt * pt)
    torch.testing.assert_close(recorder.values["n"], nt.detach())  # as made
    torch.testing.assert_close(decode(response.nodes["n"].value), nt.detach().relu())  # as the run left it
    loss = (pt * pt).sum()
    for i in range(3):
        loss.backward(retain_graph=i < 2)
        assert pt.grad is not None
        torch.testing.assert_close(recorder.grads_after_pass[i], pt.grad)
    torch.testing.assert_close(decode(response.nodes["p"].grad), 3 * 2 * pt.detach())

"""Per-sample gradients (dagrad/per_sample.py, POST /api/per_sample) against each sample's
gradient computed by hand in PyTorch, one sample at a time; their sum or mean against the batch
gradient; the loop where vmap cannot go; located refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from dagrad.api.app import create_app
from dagrad.engine import Engine
from dagrad.errors import GraphErrors
from dagrad.ops.registry import REGISTRY, register
from dagrad.settings import Settings
from graph_builder import GraphBuilder, decode

BATCH = 5


def mlp(reduction: str = "mean", with_grad_node: bool = False) -> tuple[GraphBuilder, dict[str, torch.Tensor]]:
    """x [5, 3] -> linear 3->4 -> tanh -> linear 4->3 -> cross_entropy against labels."""
    g = torch.Generator().manual_seed(3)
    t = {
        "x": torch.randn(BATCH, 3, generator=g, dtype=torch.float64),
        "labels": torch.tensor([0, 2, 1, 2, 0]),
        "w1": torch.randn(4, 3, generator=g, dtype=torch.float64),
        "b1": torch.randn(4, generator=g, dtype=torch.float64),
        "w2": torch.randn(3, 4, generator=g, dtype=torch.float64),
    }
    b = GraphBuilder(dtype="float64")
    b.tensor("x", t["x"], requires_grad=False)
    b.constant("labels", t["labels"].tolist(), dtype="int64")
    for name in ("w1", "b1", "w2"):
        b.tensor(name, t[name], requires_grad=True)
    b.op("linear", "h", input="x", weight="w1", bias="b1")
    b.op("tanh", "a", input="h")
    b.op("linear", "logits", input="a", weight="w2")
    b.op("cross_entropy", "ce", input="logits", target="labels", attrs={"reduction": reduction})
    if with_grad_node:  # a gradient penalty: vmap cannot run autograd.grad inside the graph
        b.op("grad", "dce", outputs="ce", inputs="a", attrs={"create_graph": True})
        b.op("mul", "sq", input="dce", other="dce")
        b.op("sum", "pen", input="sq")
        b.op("add", "loss", input="ce", other="pen")
        b.run(output="loss")
    else:
        b.run(output="ce")
    return b, t


def by_hand(t: dict[str, torch.Tensor], i: int, reduction: str, with_grad_node: bool) -> dict[str, torch.Tensor]:
    """Sample i's gradients, the network written in PyTorch and fed sample i alone."""
    p = {k: t[k].clone().requires_grad_() for k in ("w1", "b1", "w2")}
    a = torch.tanh(F.linear(t["x"][i : i + 1], p["w1"], p["b1"]))
    ce = F.cross_entropy(F.linear(a, p["w2"]), t["labels"][i : i + 1], reduction=reduction)
    loss = ce
    if with_grad_node:
        (dce,) = torch.autograd.grad(ce, a, create_graph=True)
        loss = ce + (dce * dce).sum()
    grads = torch.autograd.grad(loss, list(p.values()))
    return dict(zip(p, grads, strict=True))


@pytest.mark.parametrize(
    ("reduction", "with_grad_node", "method"), [("mean", False, "vmap"), ("sum", False, "vmap"), ("mean", True, "vmap")]
)
def test_each_sample_as_by_hand(reduction: str, with_grad_node: bool, method: str) -> None:
    b, t = mlp(reduction, with_grad_node)
    for sample in (0, 3):
        r = Engine().per_sample(b.graph(), sample)
        assert r.method == method
        assert r.batch == ["x", "labels"]
        assert r.batch_size == BATCH
        torch.testing.assert_close(decode(r.inputs["x"]), t["x"][sample])
        assert decode(r.inputs["labels"]).tolist() == int(t["labels"][sample])
        hand = by_hand(t, sample, reduction, with_grad_node)
        params = {p.node: p for p in r.params}
        assert set(params) == {"w1", "b1", "w2"}
        for name, g in hand.items():
            torch.testing.assert_close(decode(params[name].grad), g)
        norms = [[float(by_hand(t, i, reduction, with_grad_node)[n].norm()) for i in range(BATCH)] for n in params]
        for (name, p), expected in zip(params.items(), norms, strict=True):
            assert p.norms == pytest.approx(expected, rel=1e-9), name


@pytest.fixture
def branching_op() -> Iterator[str]:
    """A test-only op with a Python `if` on its input's values, which vmap cannot batch (no op of
    the registry has one left: their value checks step aside under vmap, ops/losses.py)."""

    def fn(input: torch.Tensor) -> torch.Tensor:
        if input.device.type == "meta":  # the compiler infers shapes on the meta device
            return input * 2
        return input * 2 if bool(input.sum() > 0) else input * 3

    name = "test_branching"
    register(name, "arithmetic", fn, ["input"], doc="2x or 3x, by the sign of the sum", torch="-")
    try:
        yield name
    finally:
        del REGISTRY[name]


def test_a_loop_where_vmap_cannot_go(branching_op: str) -> None:
    g = torch.Generator().manual_seed(5)
    x, w = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64)
    b = GraphBuilder(dtype="float64")
    b.tensor("x", x, requires_grad=False)
    b.tensor("w", w, requires_grad=True)
    b.op("mul", "xw", input="x", other="w")
    b.op(branching_op, "br", input="xw")
    b.op("tanh", "t", input="br")
    b.op("sum", "loss", input="t")

    def grad_of(rows: torch.Tensor) -> torch.Tensor:
        p = w.clone().requires_grad_()
        xw = rows * p
        (g,) = torch.autograd.grad(torch.tanh(xw * 2 if bool(xw.sum() > 0) else xw * 3).sum(), p)
        return g

    each = [grad_of(x[i : i + 1]) for i in range(4)]
    for i in range(4):
        r = Engine().per_sample(b.run(output="loss").graph(), i)
        assert r.method == "loop"
        torch.testing.assert_close(decode(r.params[0].grad), each[i])
    # The op's branch is taken on the whole batch's sum: samples interact, and the samples'
    # gradients need not add up to the batch's. The answer says how far they are.
    batch = grad_of(x)
    expected = float((torch.stack(each).sum(0) - batch).abs().max() / batch.abs().max())
    assert r.params[0].sum_error == pytest.approx(expected, rel=1e-9)


def test_sum_or_mean_is_the_batch_gradient() -> None:
    """Mean-reduced: the mean of the samples' gradients is the batch's; sum-reduced: their sum."""
    for reduction, right, wrong in (("mean", "mean_error", "sum_error"), ("sum", "sum_error", "mean_error")):
        b, _ = mlp(reduction)
        r = Engine().per_sample(b.graph())
        for p in r.params:
            assert getattr(p, right) < 1e-12, (reduction, p.node)
            assert getattr(p, wrong) > 0.1, (reduction, p.node)


def test_batch_named_and_refusals() -> None:
    b, _ = mlp()
    graph = b.graph()
    assert Engine().per_sample(graph, 1, ["x", "labels"]).sample == 1
    cases: list[tuple[Any, ...]] = [
        (graph, 5, None, "sample 5 is out of range: the batch has 5 samples, 0 to 4"),
        (graph, 0, ["w1"], "'w1' requires grad"),
        (graph, 0, ["nope"], "'nope' is not a source"),
    ]
    for g, sample, batch, message in cases:
        with pytest.raises(GraphErrors) as exc:
            Engine().per_sample(g, sample, batch)
        assert message in str(exc.value)
    # A size that fixes the batch: located on the node, at batch size 1.
    fixed = GraphBuilder()
    fixed.input("x", shape=[4, 6], init="normal")
    fixed.parameter("w", shape=[6], init="normal")
    fixed.op("reshape", "r", input="x", attrs={"shape": [24]})
    fixed.op("dot", "d", input="r", tensor="r")
    fixed.op("sum", "s", input="w")
    fixed.op("mul", "loss", input="d", other="s")
    with pytest.raises(GraphErrors) as exc:
        Engine().per_sample(fixed.run(output="loss").graph())
    assert exc.value.errors[0].node == "r"
    assert "taking x as the batch (first dimension 4), one sample at a time" in exc.value.errors[0].message
    with pytest.raises(GraphErrors) as limit:
        Engine(Settings(max_tensor_elements=60)).per_sample(graph)
    assert limit.value.errors[0].code == "limit"
    assert "5 samples" in str(limit.value)


def test_over_http() -> None:
    b, t = mlp()
    with TestClient(create_app(Settings())) as client:
        r = client.post("/api/per_sample?sample=2&batch=x,labels", content=b.graph().model_dump_json())
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["sample"] == 2
        w1 = next(p for p in body["params"] if p["node"] == "w1")
        torch.testing.assert_close(decode(w1["grad"]), by_hand(t, 2, "mean", False)["w1"])
        bad = client.post("/api/per_sample?sample=9", content=b.graph().model_dump_json())
        assert bad.status_code == 422
        assert "out of range" in bad.json()["errors"][0]["message"]

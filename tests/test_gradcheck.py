"""The gradient check (dagrad/gradcheck.py, POST /api/gradcheck): agrees with
torch.autograd.gradcheck on every op, finds a backward that is wrong, samples within its budget,
and refuses what is over its limits before it runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from torch.autograd.gradcheck import GradcheckError

from dagrad.api.app import create_app
from dagrad.engine import Engine
from dagrad.errors import GraphErrors
from dagrad.graph_format import Graph
from dagrad.ops.registry import REGISTRY, Example, OpDef, register
from dagrad.settings import Settings
from graph_builder import GraphBuilder
from op_cases import OPS, example_tensors

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "backend/dagrad/examples").glob("*.json"))
CASES = [
    pytest.param(op, i, ex, id=f"{op.name}-{i}")
    for op in OPS
    if op.differentiable and op.name != "grad"
    for i, ex in enumerate(op.examples)
    if not ex.large
]


def op_graph(op: OpDef, example: Example, index: int) -> GraphBuilder:
    """The op on the example's tensors, its output weighted so that every element's gradient
    differs, summed into the loss."""
    b = GraphBuilder(seed=0, dtype="float64")
    ids: dict[str, Any] = {}
    for port, value in example_tensors(example, seed=index).items():
        if isinstance(value, list):
            ids[port] = [b.tensor(f"{port}_{i}", t) for i, t in enumerate(value)]
        else:
            ids[port] = b.tensor(port, value)
    out = b.op(op.name, "out", attrs=dict(example.attrs), **ids)
    shape = Engine().validate(b.graph()).nodes[out].shape
    b.parameter("w", shape=shape, init="uniform", low=0.5, high=1.5)
    b.op("mul", "weighted", input="out", other="w")
    b.op("sum", "loss", input="weighted")
    return b.run(output="loss")


@pytest.mark.parametrize(("op", "index", "example"), CASES)
def test_agrees_with_torch_gradcheck_on_every_op(op: OpDef, index: int, example: Example) -> None:
    """torch.autograd.gradcheck passes on every op (tests/test_ops.py); so does dagrad's check of
    the op in a graph, on every gradient the run returns, with nothing sampled."""
    b = op_graph(op, example, index)
    report = Engine().gradcheck(b.graph(), max_elements=20000)
    assert not report.sampled
    assert report.ok, [n for n in report.nodes if not n.ok]
    checked = {n.node for n in report.nodes}
    assert {"out", "w", "weighted"} <= checked
    for n in report.nodes:
        assert n.checked == n.numel
        assert n.max_abs_error <= 1e-5 + 1e-3 * max(abs(n.worst_numeric), 1.0)


@pytest.fixture
def wrong_op() -> Iterator[str]:
    """A test-only op whose backward is wrong by a factor: gradcheck must say so."""

    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:  # the truth is 2x; this says 3x
            (x,) = ctx.saved_tensors
            return 3 * x * grad

    name = "test_wrong_square"
    register(name, "arithmetic", lambda input: Twice.apply(input), ["input"], doc="x², backward wrong", torch="-")
    try:
        yield name
    finally:
        del REGISTRY[name]


def test_finds_a_wrong_backward(wrong_op: str) -> None:
    x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(GradcheckError):
        torch.autograd.gradcheck(lambda t: REGISTRY[wrong_op].fn(input=t), (x,))

    b = GraphBuilder()
    b.parameter("x", values=x.tolist())
    b.op(wrong_op, "sq", input="x")
    b.op("tanh", "t", input="sq")
    b.op("sum", "loss", input="t")
    report = Engine().gradcheck(b.run(output="loss").graph())
    by_node = {n.node: n for n in report.nodes}
    assert not report.ok
    assert not by_node["x"].ok
    assert by_node["x"].failing == 3
    assert by_node["x"].max_rel_error == pytest.approx(1 / 3, rel=1e-4)  # 3x against 2x
    # Below the wrong op, every gradient is right.
    assert by_node["sq"].ok
    assert by_node["t"].ok
    # Where it is worst: the analytic is autograd's (wrong) value, the numeric the truth.
    i = by_node["x"].worst_index[0]
    assert by_node["x"].worst_numeric == pytest.approx(float(2 * x[i] * (1 - torch.tanh(x[i] ** 2) ** 2)), rel=1e-6)
    assert by_node["x"].worst_analytic == pytest.approx(1.5 * by_node["x"].worst_numeric, rel=1e-6)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_agrees(path: Path) -> None:
    """Detach, no_grad regions, in-place ops, views of a shared weight, and derivatives taken by
    grad nodes with create_graph: each gradient is what autograd says, and the check agrees."""
    graph = Graph.model_validate_json(path.read_text())
    # Each forward of the conv nets takes milliseconds: a sample of them, all of the others.
    report = Engine().gradcheck(graph, max_elements=40 if path.stem.startswith("conv") else 300)
    assert report.ok, [n for n in report.nodes if not n.ok]
    assert report.nodes
    grad_nodes = {n.id for n in graph.nodes if n.op == "grad"}
    assert {n.node for n in report.nodes if n.kind == "derivative"} == grad_nodes


def test_detach_is_a_constant_as_autograd_takes_it() -> None:
    """d(x * x.detach())/dx is x.detach() to autograd, not 2x: the check moves x but keeps the
    detached value as the unmoved run made it, so it agrees with autograd."""
    b = GraphBuilder()
    b.parameter("x", values=[1.0, 2.0, 3.0])
    b.op("detach", "d", input="x")
    b.op("mul", "y", input="x", other="d")
    b.op("sum", "loss", input="y")
    report = Engine().gradcheck(b.run(output="loss").graph())
    x = next(n for n in report.nodes if n.node == "x")
    assert x.ok
    assert x.worst_numeric == pytest.approx(float([1.0, 2.0, 3.0][x.worst_index[0]]), abs=1e-6)


def test_a_kink_is_not_a_wrong_gradient() -> None:
    """max pooling over a tie, relu at 0: the one-sided differences disagree and autograd takes
    one of them. Counted as kinks, not failures, and said so."""
    b = GraphBuilder()
    b.parameter("x", values=[[[[1.0, 1.0, 0.0, 2.0]]]])
    b.op("max_pool2d", "p", input="x", attrs={"kernel_size": [1, 2]})
    b.parameter("z", values=[0.0, 1.0, -1.0])
    b.op("relu", "r", input="z")
    b.op("sum", "s1", input="p")
    b.op("sum", "s2", input="r")
    b.op("add", "loss", input="s1", other="s2")
    report = Engine().gradcheck(b.run(output="loss").graph())
    by_node = {n.node: n for n in report.nodes}
    assert report.ok
    assert by_node["x"].kinks == 2  # the tie 1, 1: each element, moved up, becomes the max
    assert by_node["z"].kinks == 1  # relu at 0
    assert by_node["r"].kinks == 0


def test_samples_within_its_budget_seeded() -> None:
    path = next(p for p in EXAMPLES if p.stem == "sequential_mlp")
    graph = Graph.model_validate_json(path.read_text())
    first = Engine().gradcheck(graph, max_elements=40)
    assert first.sampled
    assert first.elements_checked == 40
    assert first.elements_total > 40
    assert all(n.checked >= 1 for n in first.nodes)
    assert any(n.sampled for n in first.nodes)
    again = Engine().gradcheck(graph, max_elements=40)
    assert [(n.node, n.checked, n.worst_index) for n in again.nodes] == [
        (n.node, n.checked, n.worst_index) for n in first.nodes
    ]
    other_seed = graph.model_copy(update={"run": graph.run.model_copy(update={"seed": 7})})
    moved = Engine().gradcheck(other_seed, max_elements=40)
    assert [n.worst_index for n in moved.nodes] != [n.worst_index for n in first.nodes]


def test_float32_graph_is_checked_in_float64() -> None:
    b = GraphBuilder(dtype="float32")
    b.parameter("x", values=[0.1, 0.2, 0.3], dtype="float32")
    b.op("exp", "e", input="x")
    b.op("sum", "loss", input="e")
    report = Engine().gradcheck(b.run(output="loss").graph())
    x = next(n for n in report.nodes if n.node == "x")
    assert report.dtype == "float64"
    # exp'(0.1) in float64 from the literal 0.1, not from float32's 0.100000001...
    i = x.worst_index[0]
    assert x.worst_analytic == torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64).exp()[i].item()
    assert x.max_abs_error < 1e-8


def test_refuses_before_it_runs() -> None:
    b = GraphBuilder()
    b.parameter("x", values=[1.0, 2.0])
    b.op("sum", "loss", input="x")
    with pytest.raises(GraphErrors) as over:
        Engine(Settings(max_gradcheck_elements=10)).gradcheck(b.run(output="loss").graph(), max_elements=11)
    assert "max_elements=11" in str(over.value)
    assert over.value.errors[0].code == "limit"

    big = GraphBuilder()
    big.parameter("w", shape=[64, 64], init="normal")
    big.parameter("v", shape=[64, 64], init="normal")
    big.op("matmul", "m", input="w", other="v")
    big.op("sum", "loss", input="m")
    with pytest.raises(GraphErrors) as flops:
        Engine(Settings(max_flops=1e7)).gradcheck(big.run(output="loss").graph(), max_elements=1000)
    assert "forward runs" in str(flops.value)
    assert "max_elements=" in str(flops.value)

    forward_only = GraphBuilder()
    forward_only.parameter("x", values=[1.0])
    with pytest.raises(GraphErrors) as nothing:
        Engine().gradcheck(forward_only.graph())
    assert nothing.value.errors[0].code == "run"


def test_over_http() -> None:
    path = next(p for p in EXAMPLES if p.stem == "dag_4_1")
    with TestClient(create_app(Settings())) as client:
        ok = client.post("/api/gradcheck", content=path.read_bytes(), headers={"content-type": "application/json"})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["ok"] is True
        assert body["dtype"] == "float64"
        assert {n["node"] for n in body["nodes"]} >= {"w1", "w2", "x1", "x3", "q"}
        sampled = client.post("/api/gradcheck?max_elements=5", content=path.read_bytes())
        assert sampled.json()["elements_checked"] == 5
        doc = json.loads(path.read_text())
        doc["run"].pop("output")
        refused = client.post("/api/gradcheck", json=doc)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["code"] == "run"
        bad = client.post("/api/gradcheck?max_elements=0", content=path.read_bytes())
        assert bad.status_code == 422


def test_cli(tmp_path: Path, wrong_op: str, capsys: pytest.CaptureFixture[str]) -> None:
    from dagrad.cli import main

    assert main(["gradcheck", "dag_4_1"]) == 0
    out = capsys.readouterr().out
    assert "every gradient agrees" in out
    assert "w1" in out
    b = GraphBuilder()
    b.parameter("x", values=[0.5, 2.0])
    b.op(wrong_op, "loss", input="x")
    path = tmp_path / "wrong.json"
    path.write_text(b.run(output="loss", grad_output="sum").graph().model_dump_json())
    assert main(["gradcheck", str(path)]) == 1
    out = capsys.readouterr().out
    assert "WRONG at [1]" in out
    assert "some gradients disagree" in out

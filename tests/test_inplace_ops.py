"""Every op with an `inplace` attribute (issue 12, part 6), generated from the registry: on each of
its small examples, the op run in place on a value computed from the example's input (PyTorch
refuses an in-place write into a leaf that requires grad), against the out-of-place oracle of
tests/oracles.py on the same tensors: the value, every source's gradient, and the version
counters PyTorch's own in-place variant leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import errors_of
from dagrad import examples
from dagrad.compiler import CompileErrors
from dagrad.engine import Engine
from dagrad.graph_format import Graph
from dagrad.ops.registry import Example, OpDef
from graph_builder import GraphBuilder, decode
from op_cases import DTYPE, OPS, assert_grad, example_tensors, fresh, full_attrs
from oracles import ORACLES

INPLACE_OPS = [op for op in OPS if "inplace" in op.attrs.model_fields]
# PyTorch's in-place variants, written out here: what the version counters are checked against.
TORCH_INPLACE: dict[str, Callable[..., torch.Tensor]] = {
    "relu": torch.relu_,
    "tanh": torch.Tensor.tanh_,
    "sigmoid": torch.Tensor.sigmoid_,
    "add": lambda input, other, alpha: input.add_(other, alpha=alpha),
    "sub": lambda input, other, alpha: input.sub_(other, alpha=alpha),
    "mul": torch.Tensor.mul_,
}


def _broadcasts_to_input(example: Example) -> bool:
    """In place, the result must keep input's shape: other must broadcast to it."""
    shapes = [spec.shape for spec in example.inputs.values() if hasattr(spec, "shape")]
    return torch.broadcast_shapes(*shapes) == tuple(example.inputs["input"].shape)  # type: ignore[union-attr]


CASES = [
    pytest.param(op, i, ex, id=f"{op.name}-{i}")
    for op in INPLACE_OPS
    for i, ex in enumerate(op.examples)
    if not ex.large and _broadcasts_to_input(ex)
]


def test_the_course_ops_have_inplace_and_each_is_checked() -> None:
    assert {"relu", "tanh", "sigmoid", "add", "mul"} <= {op.name for op in INPLACE_OPS}
    assert {op.name for op in INPLACE_OPS} == set(TORCH_INPLACE)
    assert {op.name for op, *_ in (c.values for c in CASES)} == set(TORCH_INPLACE)


@pytest.mark.parametrize(("op", "index", "example"), CASES)
def test_inplace_matches_the_out_of_place_oracle(op: OpDef, index: int, example: Example) -> None:
    tensors = example_tensors(example, seed=index)
    attrs = {**full_attrs(op, example), "inplace": True}

    ref = fresh(tensors)
    pre = ref["input"] * 1.0  # a non-leaf: PyTorch lets it be overwritten
    others = {k: v for k, v in ref.items() if k != "input"}
    out = ORACLES[op.name](input=pre, **others, **attrs)
    weights = torch.rand(out.shape, dtype=DTYPE, generator=torch.Generator().manual_seed(1000 + index)) + 0.5
    (out * weights).sum().backward()
    # What PyTorch's own in-place variant does to the version counter of what it overwrites.
    again = fresh(tensors)
    written = again["input"] * 1.0
    before = written._version
    TORCH_INPLACE[op.name](written, **{k: v for k, v in again.items() if k != "input"}, **_without_inplace(attrs))
    assert written._version == before + 1

    b = GraphBuilder(seed=0, dtype="float64")
    ids: dict[str, Any] = {port: b.tensor(port, value) for port, value in tensors.items()}
    b.constant("one", torch.tensor(1.0, dtype=DTYPE))
    b.op("mul", "pre", input=ids["input"], other="one")
    b.op(op.name, "out", attrs={**example.attrs, "inplace": True}, **{**ids, "input": "pre"})
    b.constant("weights", weights)
    b.op("mul", "weighted", input="out", other="weights")
    b.op("sum", "loss", input="weighted")
    nodes = b.run(output="loss").evaluate().nodes

    torch.testing.assert_close(decode(nodes["out"].value), out.detach())
    # pre's value is the tensor the op overwrote: PyTorch's pre shows the result too.
    torch.testing.assert_close(decode(nodes["pre"].value), out.detach())
    assert nodes["pre"].version == nodes["out"].version == written._version
    assert nodes["weighted"].version == 0
    for port, t in ref.items():
        assert_grad(nodes[port].grad, t.grad, f"grad of source {port!r}")


def _without_inplace(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k != "inplace"}


def test_inplace_into_a_leaf_that_requires_grad_is_refused_on_its_node() -> None:
    for op in INPLACE_OPS:
        w = torch.rand(3, requires_grad=True)
        inputs = {"input": "w"} | ({"other": "o"} if op.port("other") is not None else {})
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            TORCH_INPLACE[op.name](w, *([torch.ones(3)] if "other" in inputs else []), **_alpha(op))
        b = GraphBuilder()
        b.parameter("w", values=[1.0, 2.0, 3.0])
        b.input("o", values=[1.0, 1.0, 1.0])
        b.op(op.name, "r", attrs={"inplace": True}, **inputs)
        b.op("sum", "s", input="r")
        with pytest.raises(CompileErrors) as refused:
            Engine().validate(b.run(output="s").graph())
        assert [e.node for e in refused.value.errors] == ["r"], op.name
        assert "leaf" in refused.value.errors[0].message


def _alpha(op: OpDef) -> dict[str, Any]:
    return {"alpha": 1.0} if "alpha" in op.attrs.model_fields else {}


def test_the_gallerys_inplace_relu_after_sigmoid(client: TestClient) -> None:
    """As shipped (inplace off) it runs with every version 0; with r's inplace on, the error is on s
    and on r, with PyTorch's versions, as the same code fails in PyTorch."""
    x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    s = torch.sigmoid(x)
    torch.relu_(s)
    assert s._version == 1
    with pytest.raises(RuntimeError, match="output 0 of Sigmoid, is at version 1; expected version 0"):
        s.sum().backward()

    doc = examples.load_all()["sigmoid_inplace_relu"].model_dump(mode="json")
    ran = client.post("/api/evaluate", json=doc)
    assert ran.status_code == 200
    assert {n["version"] for n in ran.json()["nodes"].values()} == {0}
    next(n for n in doc["nodes"] if n["id"] == "r")["attrs"]["inplace"] = True
    errors = {e["node"]: e["message"] for e in errors_of(client.post("/api/evaluate", json=doc))}
    assert set(errors) == {"s", "r"}
    assert "SigmoidBackward0 (result) of s saved it (version 0)" in errors["s"]
    assert "(now version 1)" in errors["s"]


def test_of_two_nodes_of_one_op_only_the_overwritten_one_is_blamed(client: TestClient) -> None:
    doc = {
        "nodes": [
            {"id": "x", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "s1", "op": "sigmoid", "inputs": {"input": "x"}},
            {"id": "s2", "op": "sigmoid", "inputs": {"input": "x"}},
            {"id": "r", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "s2"}},
            {"id": "t", "op": "add", "inputs": {"input": "s1", "other": "r"}},
            {"id": "loss", "op": "sum", "inputs": {"input": "t"}},
        ],
        "run": {"output": "loss"},
    }
    x = torch.rand(3, requires_grad=True)
    s1, s2 = torch.sigmoid(x), torch.sigmoid(x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (s1 + torch.relu_(s2)).sum().backward()
    errors = {e["node"] for e in errors_of(client.post("/api/validate", json=doc))}
    assert errors == {"s2", "r"}


def test_versions_count_the_writes_after_a_node_made_its_value() -> None:
    """A source dagrad fills with normal_() or uniform_() starts at version 0, as a tensor from
    torch.randn does, and so do its views; an in-place write under no_grad then counts once, in
    the source and in every view of it, as in PyTorch."""
    filled = torch.empty(3).normal_()
    assert filled._version == 1  # dagrad fills its sources so, and counts as for torch.randn:
    assert torch.randn(3)._version == 0
    for name, graph in examples.load_all().items():
        nodes = Engine().evaluate(graph).nodes
        versions = {nid: n.version for nid, n in nodes.items() if n.op in ("input", "parameter", "constant", "index")}
        assert set(versions.values()) == {0}, (name, versions)
    # Where PyTorch's own kernels write in place, the counter says so, as PyTorch's does: linear of
    # a vector without bias (the Siamese towers' last layer).
    h, w2 = torch.randn(16, requires_grad=True), torch.randn(4, 16, requires_grad=True)
    nodes = Engine().evaluate(examples.load_all()["siamese"]).nodes
    assert nodes["za"].version == torch.nn.functional.linear(torch.tanh(h), w2)._version
    # A derivative autograd summed in its own buffer has been written in place: PyTorch says so too.
    a, b = torch.tensor(0.5, requires_grad=True), torch.tensor(-0.5, requires_grad=True)
    ga, gb = torch.autograd.grad((a - 1) ** 2 + (b + 1) ** 2 + (a - b) ** 2, (a, b))
    nodes = Engine().evaluate(examples.load_all()["detach_side_by_side"]).nodes
    assert (nodes["dl_da"].version, nodes["dl_db"].version) == (ga._version, gb._version)
    doc = {
        "nodes": [
            {"id": "w", "op": "parameter", "attrs": {"shape": [2, 3]}},
            {"id": "row", "op": "index", "attrs": {"dim": 0, "index": 1}, "inputs": {"input": "w"}},
            {"id": "one", "op": "constant", "attrs": {"shape": [], "init": "full", "value": 1.0}},
            {"id": "step", "op": "add", "attrs": {"inplace": True}, "inputs": {"input": "w", "other": "one"}},
        ],
        "regions": [{"id": "update", "nodes": ["step"]}],
    }
    w = torch.randn(2, 3, requires_grad=True)
    row = w[1]
    with torch.no_grad():
        w.add_(1.0)
    nodes = Engine().evaluate(Graph.model_validate(doc)).nodes
    assert {k: nodes[k].version for k in ("w", "row", "step")} == {"w": w._version, "row": row._version, "step": 1}
    assert w._version == row._version == 1

"""The node's line of PyTorch (ops/spelling.py) is code that does what the node does.

For every op and each of its small examples, and each variant with one boolean attribute
flipped (inplace, keepdim, create_graph, ceil_mode...): the line is run by Python on the
example's tensors, named as the line names them, and its result compared with the op's own
call. A source's line, run after torch.manual_seed(seed), makes the tensor dagrad draws from
that seed. Then what the editor reads: the line follows the attributes, and POST /api/validate
gives every node's line, also for a graph with errors.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient
from sklearn.datasets import load_digits

from dagrad.errors import OpError
from dagrad.ops import REGISTRY
from dagrad.ops.registry import Example, OpDef, RunContext
from dagrad.ops.sources import SourceAttrs, create
from op_cases import OPS, example_tensors

# grad's outputs must be computed from its inputs (autograd matches them by identity).
COMPUTED = {"grad": ("outputs", lambda inputs: (inputs**3).sum())}


def variants(op: OpDef, example: Example) -> list[dict[str, Any]]:
    """The example's attributes, then each with one boolean attribute flipped."""
    base = op.attrs.model_validate(dict(example.attrs)).model_dump()
    flipped = [{**base, name: not value} for name, value in base.items() if isinstance(value, bool)]
    return [base, *flipped]


CASES = [
    pytest.param(op, example, attrs, id=f"{op.name}-{i}-{k}")
    for op in OPS
    for i, example in enumerate(op.examples)
    if not example.large
    for k, attrs in enumerate(variants(op, example))
]


def named(tensors: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str | list[str]]]:
    """Each port's tensors under a variable name (a list port's as tensors_0, tensors_1...), and
    the wiring that names them."""
    variables: dict[str, Any] = {}
    wiring: dict[str, str | list[str]] = {}
    for port, value in tensors.items():
        if isinstance(value, list):
            wiring[port] = [f"{port}_{i}" for i in range(len(value))]
            variables.update(zip(wiring[port], value, strict=True))
        else:
            wiring[port] = port
            variables[port] = value
    return variables, wiring


def inputs_for(op: OpDef, example: Example, attrs: dict[str, Any]) -> dict[str, Any]:
    """Fresh tensors of the example: an in-place op's are no leaves that require grad (PyTorch
    refuses to overwrite one); grad's outputs are computed from its inputs."""
    tensors = example_tensors(example)
    if attrs.get("inplace"):
        tensors = {k: [t.detach() for t in v] if isinstance(v, list) else v.detach() for k, v in tensors.items()}
    if op.name in COMPUTED:
        port, make = COMPUTED[op.name]
        tensors[port] = make(tensors["inputs"])
    return tensors


def outcome(fn: Any) -> tuple[torch.Tensor | None, type[BaseException] | None]:
    try:
        return fn(), None
    except (RuntimeError, ValueError, TypeError) as exc:
        return None, type(exc)


@pytest.mark.parametrize(("op", "example", "attrs"), CASES)
def test_the_line_does_what_the_op_does(op: OpDef, example: Example, attrs: dict[str, Any]) -> None:
    model = op.attrs.model_validate(attrs)
    variables, wiring = named(inputs_for(op, example, attrs))
    line = op.spelled(wiring, model)
    expected, refused = outcome(lambda: op.call(inputs_for(op, example, attrs), model))
    # An op that uses the run (dropout) draws, outside a run, from a generator seeded with 0: the
    # line, which draws from torch's global one (F.dropout), must then draw the same numbers.
    torch.manual_seed(0)
    got, raised = outcome(
        lambda: eval(line, {"torch": torch, "F": F}, variables)
    )  # the line under test, written by dagrad
    assert raised == refused, f"{line}: raised {raised}, the op {refused}"
    if expected is not None:
        assert got is not None
        torch.testing.assert_close(got, expected, msg=lambda m: f"{line}: {m}")


EVAL_CASES = [
    pytest.param(op, example, id=f"{op.name}-{i}")
    for op in OPS
    if op.uses_run
    for i, example in enumerate(op.examples)
    if not example.large
]


@pytest.mark.parametrize(("op", "example"), EVAL_CASES)
def test_the_line_follows_the_train_eval_switch(op: OpDef, example: Example) -> None:
    """In an eval-mode run (run.training false) batch_norm and dropout behave as eval mode does,
    and their line says so: it does what the op does in that mode."""
    model = op.attrs.model_validate(dict(example.attrs))
    variables, wiring = named(inputs_for(op, example, {}))
    line = op.spelled(wiring, model, training=False)
    assert "training=False" in line
    try:
        expected = op.call(inputs_for(op, example, {}), model, RunContext(training=False))
    except OpError:
        pytest.skip("the op refuses this example in eval mode (batch_norm without running statistics)")
    got = eval(line, {"torch": torch, "F": F}, variables)  # the line under test, written by dagrad
    torch.testing.assert_close(got, expected, msg=lambda m: f"{line}: {m}")
    assert "training=False" not in op.spelled(wiring, model)


SOURCES = [
    ("input", {"shape": [2, 3]}),
    ("parameter", {"shape": [4], "init": "normal", "mean": 0.5, "std": 2.0}),
    ("parameter", {"shape": [], "init": "normal"}),
    ("input", {"shape": [3, 2], "init": "uniform"}),
    ("input", {"shape": [5], "init": "uniform", "low": -2.0, "high": 3.0, "requires_grad": True}),
    ("input", {"shape": [2, 2], "init": "uniform", "low": 0, "high": 10, "dtype": "int64"}),
    ("constant", {"shape": [2, 3], "value": 0.25}),
    ("constant", {"shape": [], "value": 1.0}),
    ("input", {"shape": [3], "init": "zeros", "dtype": "float64"}),
    ("parameter", {"shape": [2, 2], "init": "ones"}),
    ("input", {"shape": [2, 3], "init": "arange"}),
    ("input", {"shape": [4], "init": "arange", "start": 1.0, "step": 0.5}),
    ("input", {"init": "values", "values": [-3, 2, 5]}),
    ("parameter", {"init": "values", "values": [[1.0, 2.0], [3.0, 4.0]]}),
    ("input", {"init": "values", "values": [1, 2, 3, 4], "shape": [2, 2]}),
    ("input", {"init": "values", "values": [[1, 0], [2, 1]], "dtype": "int64"}),
    ("input", {"init": "values", "values": 7.5}),
    ("input", {"shape": [5, 1, 8, 8], "init": "digits"}),
    ("input", {"shape": [3, 64], "init": "digits", "dtype": "float64", "requires_grad": True}),
    ("constant", {"shape": [5], "init": "digit_labels", "dtype": "int64"}),
]


@pytest.mark.parametrize(("op_name", "attrs"), SOURCES, ids=[f"{o}-{i}" for i, (o, _) in enumerate(SOURCES)])
def test_a_source_line_makes_the_tensor_dagrad_draws(op_name: str, attrs: dict[str, Any]) -> None:
    op = REGISTRY[op_name]
    model = op.attrs.model_validate(attrs)
    assert isinstance(model, SourceAttrs)
    dtype = model.resolved_dtype("float32")
    expected = create(model, dtype, torch.Generator().manual_seed(7)).requires_grad_(model.requires_grad)
    line = op.spelled({}, model)
    torch.manual_seed(7)
    got = eval(line, {"torch": torch, "load_digits": load_digits})  # the line under test, written by dagrad
    assert got.dtype == expected.dtype, line
    assert got.requires_grad == expected.requires_grad, line
    torch.testing.assert_close(got, expected, rtol=0, atol=0, msg=lambda m: f"{line}: {m}")


def test_a_large_literal_is_named_not_written_out() -> None:
    values = [[float(i + j) for j in range(8)] for i in range(8)]
    line = REGISTRY["input"].spelled({}, SourceAttrs.model_validate({"init": "values", "values": values}))
    assert line == "torch.tensor(values)  # the node's literal: 64 numbers, shape [8, 8]"


def spell(op: str, attrs: dict[str, Any], **wiring: str | list[str]) -> str:
    definition = REGISTRY[op]
    return definition.spelled(wiring, definition.attrs.model_validate(attrs))


def test_the_line_follows_the_attributes() -> None:
    assert spell("relu", {}, input="x") == "F.relu(x)"
    assert spell("relu", {"inplace": True}, input="x") == "F.relu(x, inplace=True)"
    assert spell("tanh", {"inplace": True}, input="h") == "h.tanh_()"
    assert spell("add", {"alpha": 2.0, "inplace": True}, input="a", other="b") == "a.add_(b, alpha=2.0)"
    assert spell("grad", {}, outputs="y", inputs="x") == "torch.autograd.grad(y, x, retain_graph=True)[0]"
    assert (
        spell("grad", {"create_graph": True}, outputs="y", inputs="x", grad_outputs="g")
        == "torch.autograd.grad(y, x, grad_outputs=g, retain_graph=True, create_graph=True)[0]"
    )
    assert spell("conv2d", {"stride": 2, "padding": "same"}, input="x", weight="w", bias="b") == (
        "F.conv2d(x, w, bias=b, stride=2, padding='same')"
    )
    assert spell("sum", {"dim": 1, "keepdim": True}, input="x") == "torch.sum(x, dim=1, keepdim=True)"
    assert spell("max", {"dim": 0}, input="x") == "torch.max(x, dim=0).values"
    assert spell("index", {"index": 1}, input="w") == "w[1]"
    assert spell("view", {"shape": [-1, 256]}, input="x") == "x.view(-1, 256)"
    assert spell("view", {"shape": []}, input="one") == "one.view(())"  # a scalar
    assert spell("cat", {"dim": 1}, tensors=["a", "b"]) == "torch.cat([a, b], dim=1)"
    # a port not wired yet is named by the port
    assert spell("matmul", {}, other="w") == "torch.matmul(input, w)"
    parameter = REGISTRY["parameter"]
    assert parameter.spelled({}, parameter.attrs.model_validate({"init": "values", "values": [-3, 2, 5]})) == (
        "torch.tensor([-3.0, 2.0, 5.0], requires_grad=True)"
    )


def test_every_op_is_spelled_by_its_registration() -> None:
    assert [op.name for op in REGISTRY.values() if op.spell is None] == []


def test_validate_gives_each_node_its_line(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"init": "values", "values": [-3.0, 2.0, 5.0], "dtype": None}},
            {"id": "h", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "x"}},
            {"id": "s", "op": "sum", "inputs": {"input": "h"}},
        ],
        "run": {"dtype": "float64"},
    }
    body = client.post("/api/validate", json=graph).json()
    assert body["valid"] is True
    # a source naming no dtype takes the run's
    assert body["torch"] == {
        "x": "torch.tensor([-3.0, 2.0, 5.0], dtype=torch.float64)",
        "h": "F.relu(x, inplace=True)",
        "s": "torch.sum(h)",
    }
    del graph["nodes"][1]["inputs"]  # half built: relu's input not wired yet
    body = client.post("/api/validate", json=graph).json()
    assert body["valid"] is False
    assert body["torch"]["h"] == "F.relu(input, inplace=True)"

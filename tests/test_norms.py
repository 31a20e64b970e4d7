"""batch_norm, layer_norm, group_norm and dropout in graphs, beyond the generated op tests: both
settings of run.training against independent torch code, batch_norm's running buffers as the run
leaves them against nn.BatchNorm2d's, dropout's mask against F.dropout's from the same seed, and
located errors for wrong shapes and attributes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from dagrad.compiler import CompileErrors
from dagrad.errors import GraphErrors
from graph_builder import GraphBuilder, decode
from norm_oracles import batch_norm_eval, batch_norm_train

DT = torch.float64


def _bn_graph(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, training: bool) -> GraphBuilder:
    b = GraphBuilder()
    b.tensor("x", x.detach().requires_grad_())
    b.tensor("running_mean", mean)
    b.tensor("running_var", var)
    b.tensor("weight", torch.linspace(0.5, 1.5, x.shape[1], dtype=DT).requires_grad_())
    b.tensor("bias", torch.linspace(-0.2, 0.2, x.shape[1], dtype=DT).requires_grad_())
    b.op("batch_norm", "bn", attrs={"momentum": 0.3}, input="x", running_mean="running_mean",
         running_var="running_var", weight="weight", bias="bias")  # fmt: skip
    b.op("sum", "loss", input=b.op("mul", "sq", input="bn", other="bn"))
    return b.run(output="loss", training=training)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_both_modes_against_hand_written_torch(training: bool) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 5, 5, generator=g, dtype=DT) * 2 + 1
    mean, var = torch.tensor([0.5, -0.5, 1.0], dtype=DT), torch.tensor([1.0, 2.0, 0.5], dtype=DT)
    nodes = _bn_graph(x, mean, var, training).evaluate().nodes

    xr = x.clone().requires_grad_()
    w = torch.linspace(0.5, 1.5, 3, dtype=DT).requires_grad_()
    bias = torch.linspace(-0.2, 0.2, 3, dtype=DT).requires_grad_()
    rm, rv = mean.clone(), var.clone()
    out = batch_norm_train(xr, rm, rv, w, bias, momentum=0.3) if training else batch_norm_eval(xr, rm, rv, w, bias)
    (out * out).sum().backward()
    torch.testing.assert_close(decode(nodes["bn"].value), out.detach())
    for nid, t in (("x", xr), ("weight", w), ("bias", bias)):
        torch.testing.assert_close(decode(nodes[nid].grad), t.grad)
    # The buffers as the run leaves them: moved toward the batch's statistics in training, as they were in eval.
    torch.testing.assert_close(decode(nodes["running_mean"].value), rm)
    torch.testing.assert_close(decode(nodes["running_var"].value), rv)
    assert nodes["running_mean"].version == nodes["running_var"].version == (1 if training else 0)
    assert not torch.equal(rm, mean) if training else torch.equal(rm, mean)


@pytest.mark.parametrize("training", [True, False])
def test_the_answer_and_the_torch_lines_say_the_mode(client: TestClient, training: bool) -> None:
    g = torch.Generator().manual_seed(0)
    b = _bn_graph(torch.randn(4, 3, 2, 2, generator=g, dtype=DT), torch.zeros(3, dtype=DT), torch.ones(3, dtype=DT),
                  training)  # fmt: skip
    doc = b.graph().model_dump(mode="json", exclude_none=True)
    assert client.post("/api/evaluate", json=doc).json()["run"]["training"] is training
    line = client.post("/api/validate", json=doc).json()["torch"]["bn"]
    assert line == (
        f"F.batch_norm(x, running_mean, running_var, weight=weight, bias=bias, training={training}, momentum=0.3)"
    )


@pytest.mark.parametrize("training", [True, False])
def test_running_stats_equal_nn_batchnorm2d_after_the_same_forward(training: bool) -> None:
    x = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(1), dtype=DT)
    module = torch.nn.BatchNorm2d(4, momentum=0.3).to(DT)
    module.running_mean.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=DT))
    module.running_var.copy_(torch.tensor([1.0, 1.5, 2.0, 2.5], dtype=DT))
    with torch.no_grad():
        module.weight.copy_(torch.linspace(0.5, 1.5, 4, dtype=DT))
        module.bias.copy_(torch.linspace(-0.2, 0.2, 4, dtype=DT))
    nodes = _bn_graph(x, module.running_mean.clone(), module.running_var.clone(), training).evaluate().nodes
    module.train(training)
    expected = module(x)
    torch.testing.assert_close(decode(nodes["bn"].value), expected.detach())
    torch.testing.assert_close(decode(nodes["running_mean"].value), module.running_mean)
    torch.testing.assert_close(decode(nodes["running_var"].value), module.running_var)


def _dropout_graph(training: bool, seed: int, p: float = 0.4) -> GraphBuilder:
    b = GraphBuilder(seed=seed)
    b.parameter("x", shape=[6, 7], init="normal")  # drawn first from the run's generator
    b.op("dropout", "d", attrs={"p": p}, input="x")
    b.op("sum", "loss", input="d")
    return b.run(output="loss", training=training)


@pytest.mark.parametrize("seed", [0, 5])
def test_dropout_mask_is_torchs_from_the_same_seed(seed: int) -> None:
    nodes = _dropout_graph(True, seed).evaluate().nodes
    torch.manual_seed(seed)
    x = torch.randn(6, 7, dtype=DT, requires_grad=True)
    out = F.dropout(x, 0.4)  # draws after x, from the same stream
    out.sum().backward()
    torch.testing.assert_close(decode(nodes["x"].value), x.detach())
    torch.testing.assert_close(decode(nodes["d"].value), out.detach())
    torch.testing.assert_close(decode(nodes["x"].grad), x.grad)
    kept = decode(nodes["d"].value) != 0
    assert 0 < int(kept.sum()) < 42
    other = decode(_dropout_graph(True, seed + 1).evaluate().nodes["d"].value) != 0
    assert not torch.equal(other, kept)  # another seed, another mask
    assert torch.equal(decode(_dropout_graph(True, seed).evaluate().nodes["d"].value), decode(nodes["d"].value))


def test_dropout_in_eval_mode_passes_its_input_and_its_gradient() -> None:
    nodes = _dropout_graph(False, 0).evaluate().nodes
    torch.testing.assert_close(decode(nodes["d"].value), decode(nodes["x"].value))
    torch.testing.assert_close(decode(nodes["x"].grad), torch.ones(6, 7, dtype=DT))


def test_dropout_p_one_drops_everything_and_p_zero_nothing() -> None:
    assert bool((decode(_dropout_graph(True, 0, p=1.0).evaluate().nodes["d"].value) == 0).all())
    nodes = _dropout_graph(True, 0, p=0.0).evaluate().nodes
    torch.testing.assert_close(decode(nodes["d"].value), decode(nodes["x"].value))


def _errors(b: GraphBuilder) -> list[tuple[str | None, str | None, str | None, str]]:
    with pytest.raises((CompileErrors, GraphErrors)) as info:
        b.evaluate()
    return [(e.node, e.port, getattr(e, "attribute", None), e.message) for e in info.value.errors]


@pytest.mark.parametrize(
    ("op", "attrs", "shapes", "port", "words"),
    [
        ("batch_norm", {}, {"input": [4, 3, 2], "running_mean": [4]}, "running_mean", "must be [3]"),
        ("batch_norm", {}, {"input": [4, 3], "weight": [2]}, "weight", "one per channel"),
        ("batch_norm", {}, {"input": [4]}, "input", "N×C"),
        ("group_norm", {"num_groups": 4}, {"input": [2, 6, 3]}, "input", "must divide"),
        ("group_norm", {"num_groups": 3}, {"input": [2, 6, 3], "bias": [3]}, "bias", "must be [6]"),
        ("layer_norm", {"normalized_shape": [4]}, {"input": [2, 5]}, "input", "last dimensions"),
        ("layer_norm", {"normalized_shape": [5]}, {"input": [2, 5], "weight": [2, 5]}, "weight", "normalized_shape"),
    ],
)
def test_wrong_shapes_are_located(op: str, attrs: dict[str, object], shapes: dict[str, list[int]], port: str,
                                  words: str) -> None:  # fmt: skip
    b = GraphBuilder()
    ids = {name: b.input(name, shape=shape) for name, shape in shapes.items()}
    b.op(op, "n", attrs=attrs, **ids)
    errors = _errors(b)
    assert any(node == "n" and p == port and words in message for node, p, _, message in errors), errors


@pytest.mark.parametrize(
    ("op", "attrs", "attribute"),
    [("dropout", {"p": 1.5}, "p"), ("dropout", {"p": -0.1}, "p"), ("batch_norm", {"momentum": 2.0}, "momentum"),
     ("batch_norm", {"eps": 0.0}, "eps"), ("group_norm", {"num_groups": 0}, "num_groups")],
)  # fmt: skip
def test_bad_attributes_are_located(op: str, attrs: dict[str, object], attribute: str) -> None:
    b = GraphBuilder()
    b.op(op, "n", attrs=attrs, input=b.input("x", shape=[4, 2, 3]))
    errors = _errors(b)
    assert any(node == "n" and attribute in (a or message) for node, _, a, message in errors), errors


def test_eval_mode_without_running_stats_is_located_on_the_port() -> None:
    b = GraphBuilder()
    b.op("batch_norm", "n", input=b.input("x", shape=[4, 2]))
    errors = _errors(b.run(training=False))
    assert any(node == "n" and port == "running_mean" and "eval" in m for node, port, _, m in errors), errors


def test_the_palette_lists_them_with_their_ports(client: TestClient) -> None:
    ops = {op["name"]: op for op in client.get("/api/ops").json()["ops"]}
    ports = {
        name: [p["name"] for p in ops[name]["ports"]] for name in ("batch_norm", "layer_norm", "group_norm", "dropout")
    }
    assert ports["batch_norm"] == ["input", "running_mean", "running_var", "weight", "bias"]
    assert ports["layer_norm"] == ports["group_norm"] == ["input", "weight", "bias"]
    assert ports["dropout"] == ["input"]
    assert all(ops[name]["category"] == "layers" for name in ports)


def test_training_mode_with_one_value_per_channel_is_located_on_the_input() -> None:
    """nn.BatchNorm refuses it too (no variance of one value); eval mode takes it."""
    b = GraphBuilder()
    x = b.input("x", shape=[1, 3])
    b.op("batch_norm", "n", input=x, running_mean=b.input("m", shape=[3], init="zeros"),
         running_var=b.input("v", shape=[3], init="ones"))  # fmt: skip
    errors = _errors(b)
    assert any(node == "n" and port == "input" and "more than one value" in m for node, port, _, m in errors), errors
    nodes = b.run(training=False).evaluate().nodes
    torch.testing.assert_close(decode(nodes["n"].value), decode(nodes["x"].value) / (1 + 1e-5) ** 0.5)

"""The chapter's examples (dagrad/examples/*.json) against independent PyTorch code.

Every example has an oracle in tests/example_oracles.py: `torch.manual_seed(run.seed)` followed
by the chapter's own code, written out by hand. dagrad's values and gradients must match
it, and the numbers the chapter prints must come out as printed.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

import pytest
import torch

from dagrad import examples
from dagrad.engine import evaluate
from dagrad.graph_format import Graph
from dagrad.results import EvaluateResponse, PayloadOptions
from example_oracles import ORACLES, POOL_X, Net
from graph_builder import decode

# --------------------------------------------------------------------------------------------
# Helpers


def graph(name: str) -> Graph:
    g = examples.load_all().get(name)
    assert g is not None, f"no example {name!r}"
    return g


@cache
def result(name: str) -> EvaluateResponse:
    return evaluate(graph(name), PayloadOptions(full=["*"]))


def value(name: str, node: str) -> torch.Tensor:
    return decode(result(name).nodes[node].value)


def grad(name: str, node: str) -> torch.Tensor:
    g = result(name).nodes[node].grad
    assert g is not None, f"{name}: {node} has no gradient ({result(name).nodes[node].grad_note})"
    return decode(g)


def contributions(name: str, node: str) -> dict[str, torch.Tensor]:
    """A shared node's gradient, per consumer."""
    found = result(name).nodes[node].contributions
    assert found, f"{name}: {node} has no per-use contributions"
    out: dict[str, torch.Tensor] = {}
    for c in found:
        assert c.grad is not None
        out[c.consumer] = decode(c.grad)
    return out


# --------------------------------------------------------------------------------------------
# Every example against its oracle


def test_every_example_file_has_an_oracle() -> None:
    files = {p.name.removesuffix(".json") for p in resources.files(examples).iterdir() if p.name.endswith(".json")}
    assert files, "no example files found"
    assert files == set(examples.load_all())
    assert not files - set(ORACLES), (
        f"examples without an oracle in tests/test_examples.py: {sorted(files - set(ORACLES))}"
    )
    assert not set(ORACLES) - files, f"oracles without an example file: {sorted(set(ORACLES) - files)}"


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_example_is_documented(name: str) -> None:
    g_ = graph(name)
    assert g_.title
    assert g_.description
    assert g_.meta.get("section", "").startswith("4.")
    assert isinstance(g_.meta.get("chapter_code"), str)
    assert g_.meta["chapter_code"].strip()
    assert isinstance(g_.meta.get("prints"), str)


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_example_matches_pytorch(name: str) -> None:
    expected = ORACLES[name](graph(name).run.seed)
    nodes = result(name).nodes
    for node, want in expected.values.items():
        assert node in nodes, f"{name}: the graph has no node {node!r}"
        torch.testing.assert_close(value(name, node), want, msg=lambda m, node=node: f"{name}: value of {node}: {m}")
    for node, want in expected.grads.items():
        torch.testing.assert_close(grad(name, node), want, msg=lambda m, node=node: f"{name}: grad of {node}: {m}")
    for node in expected.no_grad:
        assert nodes[node].grad is None, f"{name}: {node} should get no gradient"


# --------------------------------------------------------------------------------------------
# The numbers the chapter prints


def _close(actual: torch.Tensor, printed: list | float) -> None:  # type: ignore[type-arg]
    torch.testing.assert_close(actual, torch.tensor(printed, dtype=actual.dtype), rtol=0, atol=5e-5)


def test_dag_4_1_shares_w1() -> None:
    r = result("dag_4_1")
    assert r.nodes["q"].grad_fn is not None
    assert r.nodes["q"].shape == []
    # w1 feeds x1 and x3: its gradient is the sum of what each use contributes.
    parts = contributions("dag_4_1", "w1")
    assert set(parts) == {"x1", "x3"}
    x, x1, s = value("dag_4_1", "x"), value("dag_4_1", "x1"), value("dag_4_1", "x1_plus_x2")
    torch.testing.assert_close(parts["x1"], torch.outer(grad("dag_4_1", "x1"), x))
    torch.testing.assert_close(parts["x3"], torch.outer(grad("dag_4_1", "x3"), s))
    torch.testing.assert_close(parts["x1"] + parts["x3"], grad("dag_4_1", "w1"))
    assert x1.shape == (5,)


def test_autograd_grad_prints() -> None:
    _close(value("autograd_grad", "grad_t"), [2.0, 4.0, 8.0])
    _close(value("autograd_grad", "grad_u"), [0.1, 0.05])
    # backward() agrees with autograd.grad
    _close(grad("autograd_grad", "t"), [2.0, 4.0, 8.0])
    _close(grad("autograd_grad", "u"), [0.1, 0.05])


def test_pow3_backward_prints() -> None:
    _close(grad("pow3_backward", "x"), [27.0, 12.0, 75.0])


def test_requires_grad_propagation_prints() -> None:
    nodes = result("requires_grad_propagation").nodes
    assert nodes["x"].requires_grad is False
    assert nodes["x_plus_y"].requires_grad is False
    assert nodes["z"].requires_grad is True
    assert nodes["x_plus_z"].requires_grad is True
    _close(value("requires_grad_propagation", "x_plus_z"), [8.0, 5.0])
    _close(grad("requires_grad_propagation", "z"), [1.0, 1.0])


def test_weight_sharing_blah_contributions() -> None:
    wg = grad("weight_sharing_blah", "w")
    parts = contributions("weight_sharing_blah", "w")
    assert set(parts) == {"u_w0", "v_w0", "v_w1", "v_w2"}
    torch.testing.assert_close(sum(parts.values()), wg)
    # w[2] is used by v alone: its slice of w's gradient is that one contribution.
    expected = torch.zeros_like(wg)
    expected[2] = wg[2]
    torch.testing.assert_close(parts["v_w2"], expected)
    # w[0] is indexed twice, once for u and once for v: slice 0 sums both.
    torch.testing.assert_close(parts["u_w0"][0] + parts["v_w0"][0], wg[0])


def test_siamese_contributions_are_each_towers_own_gradient() -> None:
    """Each use's share, against the same network with a copy of the weights per tower: the
    copies' gradients are what each use sends back."""
    torch.manual_seed(graph("siamese").run.seed)
    w1 = torch.empty(16, 8).normal_(0, 0.5)
    b1 = torch.empty(16).normal_(0, 0.1)
    w2 = torch.empty(4, 16).normal_(0, 0.5)
    xa, xb = torch.empty(8).normal_(), torch.empty(8).normal_()
    copies = {tower: [t.clone().requires_grad_() for t in (w1, b1, w2)] for tower in "ab"}

    def tower(x: torch.Tensor, w: list[torch.Tensor]) -> torch.Tensor:
        return torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(x, w[0], w[1])), w[2])

    ((tower(xa, copies["a"]) - tower(xb, copies["b"])).norm() ** 2).backward()
    uses = {"w1": ("ha_pre", "hb_pre"), "b1": ("ha_pre", "hb_pre"), "w2": ("za", "zb")}
    for i, (param, (use_a, use_b)) in enumerate(uses.items()):
        parts = contributions("siamese", param)
        assert set(parts) == {use_a, use_b}
        torch.testing.assert_close(parts[use_a], copies["a"][i].grad)
        torch.testing.assert_close(parts[use_b], copies["b"][i].grad)
        torch.testing.assert_close(parts[use_a] + parts[use_b], grad("siamese", param))


def test_relu_prints() -> None:
    _close(value("relu", "relu"), [0.8008, 0.0, 0.5019, 0.0, 0.0])
    _close(grad("relu", "x"), [1.0, 0.0, 1.0, 0.0, 0.0])


def test_mse_loss_prints() -> None:
    _close(value("mse_loss", "loss_a"), 9.0)
    _close(value("mse_loss", "loss_b"), 2.25)
    _close(grad("mse_loss", "x_a"), [[6.0]])
    _close(grad("mse_loss", "x_b"), [[1.5, 0.0, 0.0, 0.0]])


def test_conv2d_shapes_prints() -> None:
    assert result("conv2d_shapes").nodes["output"].shape == [117, 5, 9, 11]


def test_conv2d_dilation_prints() -> None:
    assert result("conv2d_dilation").nodes["output"].shape == [1, 1, 12, 22]
    assert math.isclose(graph("conv2d_dilation").nodes[1].attrs["high"], 1 / 3)


def test_max_pool2d_prints() -> None:
    _close(value("max_pool2d", "x"), POOL_X)
    _close(value("max_pool2d", "pooled"), [[[[1.0, 2.0, 1.0], [2.0, 2.0, 2.0]], [[1.0, 0.0, 2.0], [2.0, 2.0, 1.0]]]])


def test_conv_net_prints() -> None:
    nodes = result("conv_net").nodes
    assert nodes["output"].shape == [12, 10]
    sizes = [
        nodes[n].shape
        for n in (
            "conv1_weight",
            "conv1_bias",
            "conv2_weight",
            "conv2_bias",
            "fc1_weight",
            "fc1_bias",
            "fc2_weight",
            "fc2_bias",
        )
    ]
    assert sizes == [[32, 1, 5, 5], [32], [64, 32, 5, 5], [64], [200, 256], [200], [10, 200], [10]]
    assert [list(p.shape) for p in Net().parameters()] == sizes
    assert nodes["target"].dtype == "int64"


def test_conv1d_prints() -> None:
    _close(value("conv1d", "y"), [[[7.0, 12.0, 17.0]]])
    _close(grad("conv1d", "u"), [[[6.0, 9.0]]])  # the sum of the windows
    _close(grad("conv1d", "x"), [[[3.0, 5.0, 5.0, 2.0]]])


def test_detach_prints() -> None:
    _close(value("detach", "l"), 1.5)
    _close(grad("detach", "a"), -1.0)
    _close(grad("detach", "b"), -1.0)


def test_detach_loop_reaches_the_printed_values() -> None:
    """The chapter's 100 steps of a -= eta * ga, with dagrad computing ga and gb."""
    doc = graph("detach").model_dump()
    a, b, eta = torch.tensor(0.5), torch.tensor(-0.5), 1e-4
    for _ in range(100):
        for node in doc["nodes"]:
            if node["id"] in ("a", "b"):
                node["attrs"]["values"] = (a if node["id"] == "a" else b).item()
        r = evaluate(Graph.model_validate(doc), PayloadOptions(encoding="list"))
        ga, gb = (decode(r.nodes[n].grad) for n in ("a", "b"))  # type: ignore[arg-type]
        a, b = a - eta * ga, b - eta * gb
    # the chapter's own loop
    ca, cb = torch.tensor(0.5).requires_grad_(), torch.tensor(-0.5).requires_grad_()
    for _ in range(100):
        cl = (ca - 1) ** 2 + (cb + 1) ** 2 + (ca.detach() - cb) ** 2
        cga, cgb = torch.autograd.grad(cl, (ca, cb))
        with torch.no_grad():
            ca -= eta * cga
            cb -= eta * cgb
    torch.testing.assert_close(a, ca.detach())
    torch.testing.assert_close(b, cb.detach())
    assert f"{a.item():.4f} {b.item():.4f}" == "0.5099 -0.4901"


def test_second_derivative_prints() -> None:
    _close(value("second_derivative", "g"), [3.0, 12.0, 27.0])
    _close(grad("second_derivative", "x"), [6.0, 12.0, 18.0])
    assert result("second_derivative").nodes["g"].requires_grad is True


def test_linear_batch_prints() -> None:
    nodes = result("linear_batch").nodes
    assert nodes["weight"].shape == [4, 10]
    assert nodes["bias"].shape == [4]
    assert nodes["y"].shape == [523, 4]

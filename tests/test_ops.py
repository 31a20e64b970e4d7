"""Every op of the registry against an independent PyTorch oracle, generated from the registry.

For each op and each of its small `Example`s: a graph of literal sources, the op, a random
weighting and a sum, evaluated by dagrad and compared (value, the op's gradient, every source's
gradient) with plain PyTorch autograd on the same tensors; and torch.autograd.gradcheck on the
registry's implementation (tests/test_op_stats.py takes each op's large examples). Then the
`grad` op, weight sharing and the run settings.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from dagrad.compiler import CompileErrors
from dagrad.errors import GraphErrors
from dagrad.ops import REGISTRY
from dagrad.ops.registry import Example, OpDef, TensorExample
from dagrad.results import PayloadOptions
from graph_builder import GraphBuilder, decode
from op_cases import DTYPE, OPS, assert_grad, example_tensors, fresh, full_attrs, leaves, validated_attrs
from oracles import ORACLES

# Large examples are left to tests/test_op_stats.py: literal sources of their size
# would cost seconds each, and gradcheck minutes.
CASES = [pytest.param(op, i, ex, id=f"{op.name}-{i}") for op in OPS for i, ex in enumerate(op.examples) if not ex.large]
DIFFERENTIABLE_CASES = [
    pytest.param(op, i, ex, id=f"{op.name}-{i}")
    for op in OPS
    if op.differentiable
    for i, ex in enumerate(op.examples)
    if not ex.large
]


# --- every op has tests --------------------------------------------------------------------------


def test_every_op_has_an_oracle_and_an_example() -> None:
    missing_oracle = sorted(op.name for op in OPS if op.name != "grad" and op.name not in ORACLES)
    missing_example = sorted(op.name for op in OPS if op.name != "grad" and not op.examples)
    assert not missing_oracle, f"ops without an oracle in tests/oracles.py: {missing_oracle}"
    assert not missing_example, f"ops without an Example in the registry: {missing_example}"
    assert not set(ORACLES) - set(REGISTRY), f"oracles of unknown ops: {sorted(set(ORACLES) - set(REGISTRY))}"


def test_every_op_has_a_large_example() -> None:
    """So that no op, a new one included, escapes the statistics' large-tensor paths."""
    missing = sorted(op.name for op in OPS if not any(ex.large for ex in op.examples))
    assert not missing, f"ops without a large Example (Example(..., large=True)) in the registry: {missing}"

    def mean_dominated(ex: Example) -> bool:  # |mean| / std > 300: past both cancellation limits
        specs = [s for v in ex.inputs.values() for s in ([v] if isinstance(v, TensorExample) else v)]
        return any(s.dtype == "float" and abs(s.low + s.high) > 200 * (s.high - s.low) for s in specs)

    dominated = [op.name for op in OPS for ex in op.examples if ex.large and mean_dominated(ex)]
    assert len(dominated) >= 3, f"too few large examples whose mean dominates the std: {dominated}"


# --- forward and backward against torch ----------------------------------------------------------


@pytest.mark.parametrize(("op", "index", "example"), CASES)
def test_forward_backward_matches_torch(op: OpDef, index: int, example: Example) -> None:
    tensors = example_tensors(example, seed=index)
    attrs = full_attrs(op, example)

    # The oracle, by plain autograd: out * weights summed, so that every element's gradient differs.
    ref = fresh(tensors)
    out = ORACLES[op.name](**ref, **attrs)
    weights = torch.rand(out.shape, dtype=DTYPE, generator=torch.Generator().manual_seed(1000 + index)) + 0.5
    differentiable = op.differentiable and out.requires_grad
    if differentiable:
        out.retain_grad()
        (out * weights).sum().backward()

    b = GraphBuilder(seed=0, dtype="float64")
    ids: dict[str, Any] = {}
    for port, value in tensors.items():
        if isinstance(value, list):
            ids[port] = [b.tensor(f"{port}_{i}", t) for i, t in enumerate(value)]
        else:
            ids[port] = b.tensor(port, value)
    b.op(op.name, "out", attrs=dict(example.attrs), **ids)
    if differentiable:
        b.constant("weights", weights)
        b.op("mul", "weighted", input="out", other="weights")
        b.op("sum", "loss", input="weighted")
        b.run(output="loss")
    else:
        b.op("sum", "loss", input="out")
    response = b.evaluate()
    nodes = response.nodes

    torch.testing.assert_close(decode(nodes["out"].value), out.detach())
    assert nodes["out"].shape == list(out.shape)
    assert nodes["out"].requires_grad == out.requires_grad
    if not differentiable:
        assert nodes["out"].requires_grad is False
        for nid in leaves(tensors):
            assert nodes[nid].grad is None
        assert response.run.output is None
        return
    assert_grad(nodes["out"].grad, out.grad, "grad of the op's output")
    for nid, t in leaves(ref).items():
        assert_grad(nodes[nid].grad, t.grad, f"grad of source {nid!r}")
        if not t.requires_grad:
            assert "does not require grad" in (nodes[nid].grad_note or "")


def test_non_differentiable_op_stops_gradients() -> None:
    b = GraphBuilder()
    x = b.parameter("x", values=[1.0, 2.0, 3.0])
    d = b.op("detach", "d", input=x)
    y = b.op("mul", "y", input=d, other=x)  # d(x.detach() * x)/dx = x.detach()
    b.op("sum", "loss", input=y)
    nodes = b.run(output="loss").evaluate().nodes
    torch.testing.assert_close(decode(nodes["x"].grad), torch.tensor([1.0, 2.0, 3.0], dtype=DTYPE))
    assert nodes["d"].requires_grad is False
    assert nodes["d"].grad is None


# --- gradcheck on the registry implementation ----------------------------------------------------


@pytest.mark.parametrize(("op", "index", "example"), DIFFERENTIABLE_CASES)
def test_gradcheck(op: OpDef, index: int, example: Example) -> None:
    tensors = example_tensors(example, seed=index)
    attrs = validated_attrs(op, example)
    # The variables: float leaves that require grad, in a fixed order; everything else stays fixed.
    slots: list[tuple[str, int | None]] = []
    variables: list[torch.Tensor] = []
    for port, value in tensors.items():
        for i, t in enumerate(value) if isinstance(value, list) else [(None, value)]:
            if t.requires_grad:
                slots.append((port, i))
                variables.append(t.detach().clone().requires_grad_())
    assert variables, "a differentiable example needs an input that requires grad"

    def f(*xs: torch.Tensor) -> torch.Tensor:
        inputs: dict[str, Any] = {k: list(v) if isinstance(v, list) else v for k, v in tensors.items()}
        inputs = {k: [t.detach() for t in v] if isinstance(v, list) else v.detach() for k, v in inputs.items()}
        for (port, i), x in zip(slots, xs, strict=True):
            if i is None:
                inputs[port] = x
            else:
                inputs[port][i] = x
        return op.call(inputs, attrs)

    assert torch.autograd.gradcheck(f, tuple(variables), eps=1e-6, atol=1e-5, rtol=1e-4)


# --- the grad op ---------------------------------------------------------------------------------


def test_grad_op_first_derivative() -> None:
    b = GraphBuilder()
    x = b.parameter("x", values=[1.0, -2.0, 0.5])
    cube = b.op("pow", "cube", input=x, attrs={"exponent": 3.0})
    s = b.op("sum", "s", input=cube)
    b.op("grad", "g", outputs=s, inputs=x)
    nodes = b.evaluate().nodes
    xt = torch.tensor([1.0, -2.0, 0.5], dtype=DTYPE)
    torch.testing.assert_close(decode(nodes["g"].value), 3 * xt**2)
    assert nodes["g"].requires_grad is False  # no create_graph: a plain tensor


def test_grad_op_second_derivative_with_create_graph() -> None:
    values = [1.0, -2.0, 0.5]
    b = GraphBuilder()
    x = b.parameter("x", values=values)
    cube = b.op("pow", "cube", input=x, attrs={"exponent": 3.0})
    s = b.op("sum", "s", input=cube)
    g = b.op("grad", "g", outputs=s, inputs=x, attrs={"create_graph": True})
    b.op("sum", "gs", input=g)
    nodes = b.run(output="gs").evaluate().nodes

    xt = torch.tensor(values, dtype=DTYPE, requires_grad=True)
    (gt,) = torch.autograd.grad((xt**3).sum(), xt, create_graph=True)
    gt.sum().backward()
    torch.testing.assert_close(decode(nodes["g"].value), gt.detach())
    torch.testing.assert_close(decode(nodes["x"].grad), xt.grad)
    torch.testing.assert_close(decode(nodes["x"].grad), 6 * torch.tensor(values, dtype=DTYPE))


def test_grad_op_allow_unused_gives_zeros() -> None:
    b = GraphBuilder()
    x = b.parameter("x", values=[1.0, 2.0])
    unused = b.parameter("unused", values=[[1.0, 2.0], [3.0, 4.0]])
    s = b.op("sum", "s", input=b.op("mul", input=x, other=x))
    b.op("grad", "g", outputs=s, inputs=unused, attrs={"allow_unused": True})
    nodes = b.evaluate().nodes
    torch.testing.assert_close(decode(nodes["g"].value), torch.zeros(2, 2, dtype=DTYPE))


def test_grad_op_unused_without_allow_unused_is_a_located_error() -> None:
    b = GraphBuilder()
    x = b.parameter("x", values=[1.0, 2.0])
    unused = b.parameter("unused", values=[1.0])
    s = b.op("sum", "s", input=x)
    b.op("grad", "g", outputs=s, inputs=unused)
    with pytest.raises(GraphErrors) as info:  # found at compile time on the meta device, or when run
        b.evaluate()
    [error] = info.value.errors
    assert (error.node, error.port, error.code) == ("g", "inputs", "run")
    assert "allow_unused" in error.message


def test_grad_op_non_scalar_outputs_need_grad_outputs() -> None:
    b = GraphBuilder()
    x = b.parameter("x", values=[1.0, 2.0, 3.0])
    y = b.op("mul", "y", input=x, other=x)
    b.op("grad", "g", outputs=y, inputs=x)
    with pytest.raises(CompileErrors) as info:
        b.evaluate()
    located = [e for e in info.value.errors if e.node == "g"]
    assert located, info.value.errors
    assert located[0].port == "grad_outputs"
    assert "grad_outputs" in located[0].message


def test_grad_op_non_scalar_outputs_with_grad_outputs() -> None:
    b = GraphBuilder()
    x = b.parameter("x", values=[1.0, 2.0, 3.0])
    y = b.op("mul", "y", input=x, other=x)
    v = b.constant("v", values=[1.0, 10.0, 100.0])
    b.op("grad", "g", outputs=y, inputs=x, grad_outputs=v)
    nodes = b.evaluate().nodes
    xt = torch.tensor([1.0, 2.0, 3.0], dtype=DTYPE, requires_grad=True)
    (expected,) = torch.autograd.grad(xt * xt, xt, torch.tensor([1.0, 10.0, 100.0], dtype=DTYPE))
    torch.testing.assert_close(decode(nodes["g"].value), expected)


# --- weight sharing ------------------------------------------------------------------------------


def test_weight_sharing_contributions_sum_to_the_shared_gradient() -> None:
    gen = torch.Generator().manual_seed(7)
    w = torch.randn(4, 4, dtype=DTYPE, generator=gen)
    x = torch.randn(4, dtype=DTYPE, generator=gen)

    b = GraphBuilder()
    b.parameter("w", values=w)
    b.input("x", values=x)
    b.op("matmul", "h", input="w", other="x")
    b.op("tanh", "a", input="h")
    b.op("matmul", "h2", input="w", other="a")
    b.op("mul", "sq", input="h2", other="h2")  # h2 is shared too
    b.op("sum", "loss", input="sq")
    nodes = b.run(output="loss").evaluate().nodes

    # torch: one leaf copy of w per use, so each copy's grad is that use's contribution.
    w_a, w_b = w.clone().requires_grad_(), w.clone().requires_grad_()
    h2 = w_b @ torch.tanh(w_a @ x)
    (h2 * h2).sum().backward()
    w_shared = w.clone().requires_grad_()
    h2s = w_shared @ torch.tanh(w_shared @ x)
    (h2s * h2s).sum().backward()

    contributions = nodes["w"].contributions
    assert contributions is not None
    by_use = {(c.consumer, c.port): decode(c.grad) for c in contributions}
    assert set(by_use) == {("h", "input"), ("h2", "input")}
    torch.testing.assert_close(by_use["h", "input"], w_a.grad)
    torch.testing.assert_close(by_use["h2", "input"], w_b.grad)
    torch.testing.assert_close(by_use["h", "input"] + by_use["h2", "input"], decode(nodes["w"].grad))
    torch.testing.assert_close(decode(nodes["w"].grad), w_shared.grad)

    h2_uses = nodes["h2"].contributions
    assert h2_uses is not None
    assert {(c.consumer, c.port) for c in h2_uses} == {("sq", "input"), ("sq", "other")}
    total = sum(decode(c.grad) for c in h2_uses)
    torch.testing.assert_close(total, decode(nodes["h2"].grad))
    assert nodes["x"].contributions is None  # x feeds one op only


# --- run settings ------------------------------------------------------------------------------


def _two_layer(builder: GraphBuilder) -> GraphBuilder:
    gen = torch.Generator().manual_seed(3)
    builder.parameter("w1", values=torch.randn(3, 4, dtype=DTYPE, generator=gen))
    builder.parameter("w2", values=torch.randn(2, 3, dtype=DTYPE, generator=gen))
    builder.input("x", values=torch.randn(4, dtype=DTYPE, generator=gen))
    builder.op("matmul", "h", input="w1", other="x")
    builder.op("relu", "a", input="h")
    builder.op("matmul", "y", input="w2", other="a")
    builder.op("norm", "loss", input="y")
    return builder


def _two_layer_torch() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    w1 = torch.randn(3, 4, dtype=DTYPE, generator=gen).requires_grad_()
    w2 = torch.randn(2, 3, dtype=DTYPE, generator=gen).requires_grad_()
    x = torch.randn(4, dtype=DTYPE, generator=gen)
    h = w1 @ x
    h.retain_grad()
    y = w2 @ torch.relu(h)
    y.retain_grad()
    loss = (y**2).sum().sqrt()
    loss.backward()
    grads = {"w1": w1.grad, "w2": w2.grad, "h": h.grad, "y": y.grad}
    assert all(g is not None for g in grads.values())
    return {**grads, "y.value": y.detach()}


def test_backward_passes_accumulate_leaf_gradients() -> None:
    once = _two_layer(GraphBuilder()).run(output="loss").evaluate().nodes
    twice = _two_layer(GraphBuilder()).run(output="loss", backward_passes=2).evaluate().nodes
    expected = _two_layer_torch()
    for leaf in ("w1", "w2"):
        torch.testing.assert_close(decode(once[leaf].grad), expected[leaf])
        torch.testing.assert_close(decode(twice[leaf].grad), 2 * expected[leaf])
    torch.testing.assert_close(decode(twice["loss"].value), decode(once["loss"].value))


def test_wrt_limits_the_gradients_returned() -> None:
    nodes = _two_layer(GraphBuilder()).run(output="loss", wrt=["w1", "h"]).evaluate().nodes
    expected = _two_layer_torch()
    torch.testing.assert_close(decode(nodes["w1"].grad), expected["w1"])
    torch.testing.assert_close(decode(nodes["h"].grad), expected["h"])
    for other in ("w2", "y", "a", "x"):
        assert nodes[other].grad is None, other
    assert "run.wrt" in (nodes["w2"].grad_note or "")


def test_wrt_on_a_non_requiring_node_is_a_located_error() -> None:
    with pytest.raises(CompileErrors) as info:
        _two_layer(GraphBuilder()).run(output="loss", wrt=["x"]).evaluate()
    assert any(e.node == "x" and e.code == "run" for e in info.value.errors)


@pytest.mark.parametrize("grad_output", ["sum", "ones"])
def test_grad_output_on_a_non_scalar_output(grad_output: str) -> None:
    nodes = _two_layer(GraphBuilder()).run(output="y", grad_output=grad_output).evaluate().nodes
    gen = torch.Generator().manual_seed(3)
    w1 = torch.randn(3, 4, dtype=DTYPE, generator=gen).requires_grad_()
    w2 = torch.randn(2, 3, dtype=DTYPE, generator=gen).requires_grad_()
    x = torch.randn(4, dtype=DTYPE, generator=gen)
    y = w2 @ torch.relu(w1 @ x)
    y.backward(torch.ones_like(y))
    torch.testing.assert_close(decode(nodes["w1"].grad), w1.grad)
    torch.testing.assert_close(decode(nodes["w2"].grad), w2.grad)
    torch.testing.assert_close(decode(nodes["y"].grad), torch.ones(2, dtype=DTYPE))


def test_non_scalar_output_without_grad_output_is_a_located_error() -> None:
    with pytest.raises(CompileErrors) as info:
        _two_layer(GraphBuilder()).run(output="y").evaluate()
    assert any(e.node == "y" and e.code == "run" and "grad_output" in e.message for e in info.value.errors)


@pytest.mark.parametrize("encoding", ["base64", "list"])
def test_both_encodings_carry_pytorchs_numbers(encoding: str) -> None:
    nodes = _two_layer(GraphBuilder()).run(output="loss").evaluate(PayloadOptions(encoding=encoding, full=["*"])).nodes
    expected = _two_layer_torch()
    torch.testing.assert_close(decode(nodes["y"].value), expected["y.value"])
    for nid in ("w1", "w2", "h", "y"):
        torch.testing.assert_close(decode(nodes[nid].grad), expected[nid])


def test_an_op_that_hands_back_its_input_gives_that_very_tensor() -> None:
    # torch.flatten of a 1-D tensor returns the tensor itself: f is x, a leaf, with x's gradient;
    # x's uses through f are uses of x, and the shares still add up to x.grad.
    b = GraphBuilder()
    b.parameter("x", values=[1.0, -2.0, 3.0])
    b.op("flatten", "f", input="x")
    b.op("mul", "a", input="f", other="f")
    b.op("tanh", "t", input="x")
    b.op("add", "c", input="a", other="t")
    b.op("sum", "s", input="c")
    nodes = b.run(output="s").evaluate().nodes

    x = torch.tensor([1.0, -2.0, 3.0], dtype=DTYPE, requires_grad=True)
    f = torch.flatten(x)
    assert f is x
    (f * f + torch.tanh(x)).sum().backward()
    assert (nodes["f"].is_leaf, nodes["f"].grad_fn) == (True, None)
    torch.testing.assert_close(decode(nodes["f"].grad), x.grad)
    torch.testing.assert_close(decode(nodes["x"].grad), x.grad)
    shares = nodes["x"].contributions
    assert shares is not None
    assert {(c.consumer, c.port) for c in shares} == {("a", "input"), ("a", "other"), ("t", "input")}
    torch.testing.assert_close(sum(decode(c.grad) for c in shares), x.grad)

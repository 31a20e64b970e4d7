"""Every op's local backward rule (the registry's BackwardRule) against torch.autograd, generated
from the registry: on each example of the op (the large ones too), and on the cases below that reach the
attributes its examples leave alone, in float64, the rule's code given the inputs, the output and
a random grad_out must give what torch.autograd.grad gives for every input that requires grad.
An op without a rule must say why in GET /api/ops; every formula must be checked somewhere."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from dagrad.api.routes.ops import list_ops
from dagrad.ops import REGISTRY
from dagrad.ops.registry import Example, OpDef, TensorExample
from op_cases import DTYPE, OPS, example_tensors, validated_attrs

T = TensorExample
FIXED = {"requires_grad": False}  # a class or element weight: PyTorch gives it no gradient

# Attributes and shapes the examples leave out, each one a case of the rule.
EXTRA: dict[str, list[Example]] = {
    "add": [
        Example({"input": T((2, 1, 4)), "other": T((3, 1))}, {"alpha": -2.5}),
        Example({"input": T((3, 4)), "other": T((4,))}, {"inplace": True}),
    ],
    "sub": [Example({"input": T((3, 1)), "other": T((2, 1, 4))}, {"alpha": 0.5, "inplace": False})],
    "mul": [Example({"input": T((1, 4)), "other": T((3, 1))})],
    "div": [Example({"input": T((4,)), "other": T((3, 1), 0.5, 2.0)})],
    "pow": [
        Example({"input": T((4,))}, {"exponent": 0.0}),
        Example({"input": T((4,))}, {"exponent": 1.0}),
        Example({"input": T((4,))}, {"exponent": -2.0}),
    ],
    "matmul": [
        Example({"input": T((2, 1, 3, 4)), "other": T((5, 4, 6))}),
        Example({"input": T((4,)), "other": T((2, 4, 3))}),
        Example({"input": T((2, 3, 4)), "other": T((4,))}),
        Example({"input": T((4,)), "other": T((4, 3))}),
    ],
    "sum": [
        Example({"input": T((2, 3, 4))}, {"dim": -1}),
        Example({"input": T((2, 3, 4))}, {"dim": [0, 2]}),
        Example({"input": T(())}, {"dim": 0}),
    ],
    "mean": [
        Example({"input": T((2, 3, 4))}, {"dim": [2, 0], "keepdim": True}),
        Example({"input": T((2, 3))}, {"dim": -2}),
    ],
    "max": [
        # ties: the literal's max appears twice (a whole reduction shares it; along dim, one takes it)
        Example({"input": T((2, 3), 1.0, 1.0)}),
        Example({"input": T((2, 3), 1.0, 1.0)}, {"dim": 1}),
        Example({"input": T((3, 4))}, {"dim": -1, "keepdim": False}),
    ],
    "norm": [
        Example({"input": T((3, 4))}, {"p": p, "dim": dim, "keepdim": keep})
        for p in (0.5, 1.5, 3.0, float("inf"), float("-inf"), 0.0)
        for dim, keep in ((None, False), (1, True), ([0, 1], False))
    ]
    + [Example({"input": T((3, 4), 0.0, 0.0)}, {"p": 2.0})],
    "flatten": [Example({"input": T((2, 3, 4, 5))}, {"start_dim": 1, "end_dim": -2})],
    "transpose": [Example({"input": T((2, 3, 4))}, {"dim0": -1, "dim1": 0})],
    "permute": [Example({"input": T((2, 3, 4))}, {"dims": [-1, 0, 1]})],
    "index": [Example({"input": T((3, 4, 5))}, {"dim": -1, "index": -2})],
    "cat": [Example({"tensors": [T((2, 3)), T((2, 1)), T((2, 2))]}, {"dim": -1})],
    "stack": [Example({"tensors": [T((2, 3)), T((2, 3))]}, {"dim": -1})],
    "squeeze": [Example({"input": T((1, 3, 1))}, {"dim": -1})],
    "unsqueeze": [Example({"input": T((3, 4))}, {"dim": -1})],
    "linear": [Example({"input": T((2, 3, 10)), "weight": T((4, 10)), "bias": T((4,))})],
    "conv1d": [
        Example({"input": T((2, 2, 9)), "weight": T((4, 2, 4)), "bias": T((4,))}, {"padding": "same", "dilation": 2}),
        Example({"input": T((2, 4, 10)), "weight": T((2, 2, 3))}, {"padding": "valid", "stride": 3, "groups": 2}),
        Example({"input": T((3, 8)), "weight": T((2, 3, 2))}, {"padding": [2]}),  # unbatched
    ],
    "conv2d": [
        Example(
            {"input": T((2, 3, 7, 8)), "weight": T((6, 1, 2, 3)), "bias": T((6,))}, {"padding": "same", "groups": 3}
        ),
        Example(
            {"input": T((1, 4, 9, 10)), "weight": T((4, 2, 3, 2))},
            {"stride": [3, 2], "padding": [2, 0], "dilation": [1, 3], "groups": 2},
        ),
        Example({"input": T((2, 6, 6)), "weight": T((3, 2, 3, 3)), "bias": T((3,))}, {"stride": 2, "padding": 1}),
    ],
    "max_pool1d": [
        Example({"input": T((2, 3, 10))}, {"kernel_size": 3, "stride": 1, "dilation": 2, "padding": 1}),
        Example({"input": T((3, 11))}, {"kernel_size": 4, "stride": 3, "ceil_mode": True}),
        Example({"input": T((1, 2, 8), 1.0, 1.0)}, {"kernel_size": 3, "stride": 1}),  # ties in overlapping windows
    ],
    "max_pool2d": [
        Example(
            {"input": T((1, 2, 9, 8))}, {"kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0], "ceil_mode": True}
        ),
        Example({"input": T((2, 7, 7))}, {"kernel_size": 3, "stride": 1, "dilation": [2, 1]}),
        Example({"input": T((1, 1, 5, 5), 1.0, 1.0)}, {"kernel_size": 2, "stride": 1}),
    ],
    "avg_pool2d": [
        Example({"input": T((1, 2, 7, 6))}, {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
        Example(
            {"input": T((2, 2, 5, 8))},
            {"kernel_size": [2, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": True, "count_include_pad": False},
        ),
        Example({"input": T((2, 5, 5))}, {"kernel_size": 3, "stride": 2, "ceil_mode": True, "divisor_override": 4}),
        Example(
            {"input": T((1, 1, 6, 7))}, {"kernel_size": [3, 3], "stride": [3, 2], "padding": [1, 1], "ceil_mode": True}
        ),
    ],
    "mse_loss": [
        Example({"input": T((3, 4)), "target": T((3, 4))}, {"reduction": "none"}),
        Example({"input": T((5,)), "target": T((5,))}, {"reduction": "mean"}),
    ],
    "cross_entropy": [
        Example(
            {"input": T((5, 3)), "target": T((5,), dtype="int64", low=0, high=3), "weight": T((3,), 0.5, 2.0, **FIXED)},
            {"reduction": reduction, "label_smoothing": eps, "ignore_index": ignore},
        )
        for reduction in ("mean", "sum", "none")
        for eps in (0.0, 0.2)
        for ignore in (-100, 1)
    ]
    + [
        Example(
            {"input": T((5, 3)), "target": T((5,), dtype="int64", low=0, high=3)},
            {"reduction": reduction, "label_smoothing": 0.3, "ignore_index": 2},
        )
        for reduction in ("mean", "sum", "none")
    ]
    + [
        Example(
            {"input": T((2, 3, 4, 2)), "target": T((2, 4, 2), dtype="int64", low=0, high=3)}, {"label_smoothing": 0.1}
        ),
        Example({"input": T((4,)), "target": T((), dtype="int64", low=0, high=4)}, {"reduction": "none"}),
        Example({"input": T((4,)), "target": T((4,), 0.1, 1.0)}, {"label_smoothing": 0.2}),
    ]
    + [
        Example(
            {"input": T((2, 3, 4)), "target": T((2, 3, 4), 0.1, 1.0), "weight": T((3,), 0.5, 2.0, **FIXED)},
            {"label_smoothing": 0.25, "reduction": reduction},
        )
        for reduction in ("mean", "sum", "none")
    ],
    "nll_loss": [
        Example(
            {"input": T((5, 3)), "target": T((5,), dtype="int64", low=0, high=3), "weight": T((3,), 0.5, 2.0, **FIXED)},
            {"reduction": reduction, "ignore_index": ignore},
        )
        for reduction in ("mean", "sum", "none")
        for ignore in (-100, 0)
    ]
    + [
        Example({"input": T((2, 3, 4)), "target": T((2, 4), dtype="int64", low=0, high=3)}),
        Example({"input": T((3,)), "target": T((), dtype="int64", low=0, high=3)}, {"reduction": "none"}),
    ],
    "binary_cross_entropy": [
        Example(
            {"input": T((3, 4), 0.1, 0.9), "target": T((3, 4), 0.0, 1.0), "weight": T((4,), 0.5, 2.0, **FIXED)},
            {"reduction": reduction},
        )
        for reduction in ("mean", "sum", "none")
    ],
    "softmax": [Example({"input": T((2, 3, 4))}, {"dim": 1})],
    "log_softmax": [Example({"input": T((2, 3, 4))}, {"dim": -2})],
}


def cases() -> list[Any]:
    out = []
    for op in OPS:
        if op.rule is None:
            continue
        for i, ex in enumerate([*op.examples, *EXTRA.get(op.name, [])]):
            out.append(pytest.param(op, i, ex, id=f"{op.name}-{i}"))
    return out


CASES = cases()


def run_rule(op: OpDef, example: Example, seed: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(inputs, the rule's gradients, autograd's gradients) of one case, by port; a list port's
    gradients as lists. Only inputs that require grad are compared."""
    tensors = example_tensors(example, seed=seed)
    attrs = validated_attrs(op, example)
    leaves = {
        k: [t.detach().clone().requires_grad_(t.requires_grad) for t in v]
        if isinstance(v, list)
        else v.detach().clone().requires_grad_(v.requires_grad)
        for k, v in tensors.items()
    }
    # In-place ops overwrite their input: they run on a non-leaf copy, the rule gets the values
    # the op was called with.
    called = {k: [t.clone() for t in v] if isinstance(v, list) else v.clone() for k, v in leaves.items()}
    out = op.call(called, attrs)
    g = torch.rand(out.shape, dtype=DTYPE, generator=torch.Generator().manual_seed(100 + seed)) - 0.5
    flat = [(k, i, t) for k, v in leaves.items() for i, t in (enumerate(v) if isinstance(v, list) else [(None, v)])]
    wanted = [(k, i, t) for k, i, t in flat if t.requires_grad]
    found = torch.autograd.grad(out, [t for _, _, t in wanted], g, allow_unused=True)
    expected: dict[str, Any] = {}
    for (k, i, _), grad in zip(wanted, found, strict=True):
        if i is None:
            expected[k] = grad
        else:
            expected.setdefault(k, {})[i] = grad
    plain = {k: [t.detach() for t in v] if isinstance(v, list) else v.detach() for k, v in leaves.items()}
    assert op.rule is not None
    ours = dict(op.rule.code(plain, out.detach(), g, attrs))
    return plain, ours, expected


@pytest.mark.parametrize(("op", "index", "example"), CASES)
def test_rule_matches_autograd(op: OpDef, index: int, example: Example) -> None:
    assert op.rule is not None
    if not op.rule.covers(validated_attrs(op, example)):
        pytest.skip("outside the attributes the rule states it holds for")
    _, ours, expected = run_rule(op, example, seed=index)
    assert expected, "a case with nothing that requires grad checks nothing"
    for port, theirs in expected.items():
        assert port in op.rule.formulas, f"{op.name}: {port} gets a gradient but the rule states no formula for it"
        mine = ours.get(port)
        if isinstance(theirs, dict):
            assert isinstance(mine, list), f"{op.name}.{port}: a list port's gradients come as a list"
            for i, t in theirs.items():
                _close(mine[i], t, f"{op.name}.{port}[{i}]")
        else:
            _close(mine, theirs, f"{op.name}.{port}")


def _close(mine: Any, theirs: torch.Tensor | None, what: str) -> None:
    if theirs is None:  # autograd: the input does not influence the output
        assert mine is None or not bool(torch.as_tensor(mine).abs().max() > 0), what
        return
    assert isinstance(mine, torch.Tensor), f"{what}: the rule gives no gradient"
    assert mine.shape == theirs.shape, f"{what}: shape {list(mine.shape)} where autograd gives {list(theirs.shape)}"
    torch.testing.assert_close(mine, theirs, msg=lambda m: f"{what}: {m}")


def test_every_formula_is_checked_on_a_case() -> None:
    """A formula whose port never requires grad in any case would be stated unchecked."""
    unchecked = []
    for op in OPS:
        if op.rule is None:
            continue
        exercised: set[str] = set()
        for ex in [*op.examples, *EXTRA.get(op.name, [])]:
            if not op.rule.covers(validated_attrs(op, ex)):
                continue
            for port, spec in ex.inputs.items():
                specs = [spec] if isinstance(spec, TensorExample) else list(spec)
                if any(s.requires_grad and s.dtype == "float" for s in specs):
                    exercised.add(port)
        unchecked += [f"{op.name}.{p}" for p in op.rule.formulas if p not in exercised]
    assert not unchecked, f"formulas no case checks: {unchecked}"


def test_ops_without_a_rule_say_so() -> None:
    infos = {o.name: o for o in list_ops().ops}
    for op in REGISTRY.values():
        info = infos[op.name]
        if op.rule is not None:
            assert info.rule is not None
            assert set(info.rule.formulas) == set(op.rule.formulas)
            assert info.rule_note is None
        elif op.differentiable:
            assert info.rule is None
            assert info.rule_note is not None, op.name
            assert "no local backward rule" in info.rule_note, op.name
    assert infos["matmul"].rule is not None
    assert infos["matmul"].rule.formulas["input"] == r"\mathrm{grad\_out} \cdot \mathrm{other}^{\top}"


def test_a_wrong_rule_fails() -> None:
    """The check can fail: tanh's rule with out for 1 - out² is caught."""
    from dataclasses import replace

    op = REGISTRY["tanh"]
    assert op.rule is not None
    wrong = replace(op, rule=replace(op.rule, code=lambda inputs, out, g, attrs: {"input": g * out}))
    _, ours, expected = run_rule(wrong, op.examples[0], seed=0)
    with pytest.raises(AssertionError):
        _close(ours["input"], expected["input"], "tanh.input")


def test_rules_cover_the_differentiable_ops() -> None:
    """Which ops state a rule is a choice made in the registry; this keeps it from shrinking."""
    missing = sorted(op.name for op in OPS if op.differentiable and op.rule is None)
    # Ops that say they state no rule (GET /api/ops and the stepper show "no rule stated"):
    # grad, whose derivative is the graph's own; the norm layers and dropout, whose rules read the
    # batch statistics or the drawn mask that the forward keeps to itself.
    assert missing == ["batch_norm", "dropout", "grad", "group_norm", "layer_norm"], missing

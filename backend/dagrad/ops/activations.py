"""Activations: relu, tanh, sigmoid, softmax, log_softmax."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from pydantic import Field

from dagrad.ops import checks
from dagrad.ops.gradients import OUT, G
from dagrad.ops.receptive_rules import ALONG_DIM, POINTWISE
from dagrad.ops.registry import Attrs, BackwardRule, Example, Grads, Inputs, TensorExample, register
from dagrad.ops.spelling import call

T = TensorExample


class InplaceAttrs(Attrs):
    inplace: bool = Field(
        False,
        description="Overwrite the input instead of allocating (PyTorch's in-place variant, e.g. tanh_). "
        "PyTorch refuses it on a leaf that requires grad, and backward fails when the overwritten value was needed.",
    )


def _either(
    out_of_place: Callable[[torch.Tensor], torch.Tensor], in_place: Callable[[torch.Tensor], torch.Tensor]
) -> Callable[..., torch.Tensor]:
    """The op, or its in-place variant when inplace is on."""

    def call(input: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        return in_place(input) if inplace else out_of_place(input)

    return call


class DimAttrs(Attrs):
    dim: int = Field(-1, description="Dimension along which the values sum to 1.")


def _softmax_cost(inputs: Inputs, out: torch.Tensor, attrs: object) -> float:
    """Five passes over the input: the maximum along dim, x - max, exp, the sum, and the division
    (log_softmax: a log of each sum and a subtraction instead)."""
    return 5.0 * out.numel()


# Local backward rules (BackwardRule): from the output alone, so that they hold after an in-place
# variant overwrote its input with it, as PyTorch's own backward of these does.


def _out_rule(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], formula: str) -> BackwardRule:
    def rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: object) -> Grads:
        return {"input": fn(out, g)}

    return BackwardRule(rule, {"input": formula}, where="Elementwise; ⊙ multiplies element by element.")


def _softmax_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: DimAttrs) -> Grads:
    return {"input": out * (g - (g * out).sum(dim=attrs.dim, keepdim=True))}


def _log_softmax_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: DimAttrs) -> Grads:
    return {"input": g - out.exp() * g.sum(dim=attrs.dim, keepdim=True)}


_SOFTMAX_RULES = {
    "softmax": BackwardRule(
        _softmax_rule,
        {"input": rf"{OUT} \odot \big({G} - \textstyle\sum_{{\mathrm{{dim}}}} {G} \odot {OUT}\big)"},
        where="The sum runs along dim, kept as a dimension of size 1; ⊙ multiplies element by element.",
    ),
    "log_softmax": BackwardRule(
        _log_softmax_rule,
        {"input": rf"{G} - e^{{{OUT}}} \odot \textstyle\sum_{{\mathrm{{dim}}}} {G}"},
        where="e^out is softmax(input); the sum runs along dim, kept as a dimension of size 1.",
    ),
}

register(
    "relu",
    "activations",
    F.relu,
    ("input",),
    attrs=InplaceAttrs,
    doc="max(input, 0), elementwise.",
    torch="F.relu(input, inplace=False)",
    receptive=POINTWISE,
    spell=call("F.relu"),
    rule=_out_rule(lambda out, g: g * (out > 0), rf"{G} \odot \mathbb{{1}}[{OUT} > 0]"),
    examples=[Example({"input": T((3, 4))}), Example({"input": T((233, 257), -3.0, 3.0)}, large=True)],
)
register(
    "tanh",
    "activations",
    _either(torch.tanh, torch.Tensor.tanh_),
    ("input",),
    attrs=InplaceAttrs,
    doc="Hyperbolic tangent, elementwise.",
    torch="torch.tanh(input), or input.tanh_() with inplace",
    receptive=POINTWISE,
    spell=call("torch.tanh", inplace="tanh_"),
    rule=_out_rule(lambda out, g: g * (1 - out * out), rf"{G} \odot (1 - {OUT}^2)"),
    examples=[Example({"input": T((3, 4))}), Example({"input": T((233, 257), -3.0, 3.0)}, large=True)],
)
register(
    "sigmoid",
    "activations",
    _either(torch.sigmoid, torch.Tensor.sigmoid_),
    ("input",),
    attrs=InplaceAttrs,
    doc="1 / (1 + exp(-input)), elementwise.",
    torch="torch.sigmoid(input), or input.sigmoid_() with inplace",
    receptive=POINTWISE,
    spell=call("torch.sigmoid", inplace="sigmoid_"),
    rule=_out_rule(lambda out, g: g * out * (1 - out), rf"{G} \odot {OUT} \odot (1 - {OUT})"),
    examples=[Example({"input": T((3, 4))}), Example({"input": T((233, 257), -3.0, 3.0)}, large=True)],
)
for name, fn, doc in (
    ("softmax", F.softmax, "exp(x) / exp(x).sum(dim): values along dim become probabilities."),
    ("log_softmax", F.log_softmax, "log(softmax(x, dim)), computed stably."),
):
    register(
        name,
        "activations",
        fn,
        ("input",),
        attrs=DimAttrs,
        doc=doc,
        torch=f"F.{name}(input, dim)",
        receptive=ALONG_DIM,
        spell=call(f"F.{name}", keyword=("dim",)),
        check=checks.dim_in_range("input", "dim"),
        cost=_softmax_cost,
        rule=_SOFTMAX_RULES[name],
        examples=[
            Example({"input": T((3, 4))}, {"dim": -1}),
            Example({"input": T((3, 4))}, {"dim": 0}),
            Example({"input": T((40, 50, 23), -3.0, 3.0)}, {"dim": 1}, large=True),
        ],
    )

"""Arithmetic: elementwise ops, pow, matmul and dot."""

from __future__ import annotations

from collections.abc import Callable

import torch
from pydantic import Field

from dagrad.ops import checks
from dagrad.ops.gradients import OUT, UNBROADCAST, G, port, unbroadcast
from dagrad.ops.receptive_rules import POINTWISE, THROUGH_ONES
from dagrad.ops.registry import Attrs, BackwardRule, Example, Grads, Inputs, NoAttrs, TensorExample, register
from dagrad.ops.spelling import call

T = TensorExample
POSITIVE = (0.5, 2.0)  # (low, high) for ops defined only on positive numbers
ANY = (-1.0, 1.0)


INPLACE_DOC = (
    "Overwrite input with the result (PyTorch's in-place variant, e.g. input.add_(other)): other must "
    "broadcast to input's shape. PyTorch refuses it on a leaf that requires grad."
)


class AlphaAttrs(Attrs):
    alpha: float = Field(1.0, description="Multiplier of other: input + alpha * other.")
    inplace: bool = Field(False, description=INPLACE_DOC)


class MulAttrs(Attrs):
    inplace: bool = Field(False, description=INPLACE_DOC)


class PowAttrs(Attrs):
    exponent: float = Field(2.0, description="The power: input ** exponent.")


def _integral_alpha(
    fn: Callable[..., torch.Tensor], in_place: Callable[..., torch.Tensor]
) -> Callable[..., torch.Tensor]:
    """torch.add(a, b, alpha=1.0) is refused for integer tensors ("alpha must not be a floating point
    number"), and alpha is a float attribute: a whole alpha goes to integer tensors as the int it is."""

    def call(input: torch.Tensor, other: torch.Tensor, alpha: float = 1.0, inplace: bool = False) -> torch.Tensor:
        whole = not (input.is_floating_point() or other.is_floating_point()) and float(alpha).is_integer()
        return (in_place if inplace else fn)(input, other, alpha=int(alpha) if whole else alpha)

    return call


def _mul(input: torch.Tensor, other: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    return input.mul_(other) if inplace else torch.mul(input, other)


_add, _sub = _integral_alpha(torch.add, torch.Tensor.add_), _integral_alpha(torch.sub, torch.Tensor.sub_)


def _matmul_cost(inputs: Inputs, out: torch.Tensor, attrs: object) -> float:
    """A multiply-add per output element and inner index: the output holds every broadcast batch
    (and a vector·vector product one element)."""
    x = inputs["input"]
    assert isinstance(x, torch.Tensor)
    return 2.0 * out.numel() * (x.shape[-1] if x.dim() else 1)


def _dot_cost(inputs: Inputs, out: torch.Tensor, attrs: object) -> float:
    x = inputs["input"]
    assert isinstance(x, torch.Tensor)
    return 2.0 * x.numel()


# --- local backward rules (BackwardRule) ----------------------------------------------------------


def _binary_rule(
    grads: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Attrs], tuple[torch.Tensor, torch.Tensor]],
) -> Callable[[Inputs, torch.Tensor, torch.Tensor, Attrs], Grads]:
    """A broadcasting op's rule: grads(input, other, out, g, attrs) per element, each summed back
    to its port's shape."""

    def rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Attrs) -> Grads:
        a, b = port(inputs, "input"), port(inputs, "other")
        ga, gb = grads(a, b, out, g, attrs)
        return {"input": unbroadcast(ga, a.shape), "other": unbroadcast(gb, b.shape)}

    return rule


def _alpha(attrs: Attrs) -> float:
    return float(getattr(attrs, "alpha", 1.0))


_RULES = {
    "add": BackwardRule(
        _binary_rule(lambda a, b, out, g, attrs: (g, _alpha(attrs) * g)),
        {"input": rf"\operatorname{{unbroadcast}}({G})", "other": rf"\alpha\,\operatorname{{unbroadcast}}({G})"},
        where=f"α: alpha. {UNBROADCAST}",
    ),
    "sub": BackwardRule(
        _binary_rule(lambda a, b, out, g, attrs: (g, -_alpha(attrs) * g)),
        {"input": rf"\operatorname{{unbroadcast}}({G})", "other": rf"-\alpha\,\operatorname{{unbroadcast}}({G})"},
        where=f"α: alpha. {UNBROADCAST}",
    ),
    "mul": BackwardRule(
        _binary_rule(lambda a, b, out, g, attrs: (g * b, g * a)),
        {
            "input": rf"\operatorname{{unbroadcast}}({G} \odot \mathrm{{other}})",
            "other": rf"\operatorname{{unbroadcast}}({G} \odot \mathrm{{input}})",
        },
        where=f"⊙: elementwise product; input as it was before an in-place mul_ overwrote it. {UNBROADCAST}",
    ),
    "div": BackwardRule(
        _binary_rule(lambda a, b, out, g, attrs: (g / b, -g * a / (b * b))),
        {
            "input": rf"\operatorname{{unbroadcast}}({G} \,/\, \mathrm{{other}})",
            "other": rf"-\operatorname{{unbroadcast}}({G} \odot \mathrm{{input}} \,/\, \mathrm{{other}}^2)",
        },
        where=f"Elementwise. {UNBROADCAST}",
    ),
}
_UNARY_RULES: dict[str, tuple[Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], str]] = {
    "neg": (lambda x, out, g: -g, rf"-{G}"),
    "exp": (lambda x, out, g: g * out, rf"{G} \odot {OUT}"),
    "log": (lambda x, out, g: g / x, rf"{G} \,/\, \mathrm{{input}}"),
    "sqrt": (lambda x, out, g: g / (2 * out), rf"{G} \,/\, (2\,{OUT})"),
    "abs": (lambda x, out, g: g * torch.sgn(x), rf"{G} \odot \operatorname{{sign}}(\mathrm{{input}})"),
}


def _unary_rule(name: str) -> BackwardRule:
    fn, formula = _UNARY_RULES[name]

    def rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Attrs) -> Grads:
        return {"input": fn(port(inputs, "input"), out, g)}

    return BackwardRule(rule, {"input": formula}, where="Elementwise; ⊙ multiplies element by element.")


def _pow_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: PowAttrs) -> Grads:
    x, p = port(inputs, "input"), attrs.exponent
    if p == 0:  # a constant: PyTorch gives zeros, where p·x^(p-1) would give 0·inf at x = 0
        return {"input": torch.zeros_like(x)}
    return {"input": g * p * x.pow(p - 1)}


def _matmul_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: object) -> Grads:
    """@'s gradients: a vector operand is made a matrix (a row on the left, a column on the
    right), as @ does, the products taken with broadcast batches and summed back."""
    a, b = port(inputs, "input"), port(inputs, "other")
    if a.dim() == 1 and b.dim() == 1:
        return {"input": g * b, "other": g * a}
    a2 = a.unsqueeze(0) if a.dim() == 1 else a
    b2 = b.unsqueeze(-1) if b.dim() == 1 else b
    g2 = g.unsqueeze(-2) if a.dim() == 1 else g
    g2 = g2.unsqueeze(-1) if b.dim() == 1 else g2
    ga = unbroadcast(g2 @ b2.transpose(-1, -2), a2.shape)
    gb = unbroadcast(a2.transpose(-1, -2) @ g2, b2.shape)
    return {"input": ga.reshape(a.shape), "other": gb.reshape(b.shape)}


def _dot_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: object) -> Grads:
    return {"input": g * port(inputs, "tensor"), "tensor": g * port(inputs, "input")}


_BINARY: list[tuple[str, Callable[..., torch.Tensor], type[Attrs] | None, str, str, tuple[float, float]]] = [
    (
        "add",
        _add,
        AlphaAttrs,
        "input + alpha * other, broadcasting.",
        "torch.add(input, other, alpha=1), or input.add_(...)",
        ANY,
    ),
    (
        "sub",
        _sub,
        AlphaAttrs,
        "input - alpha * other, broadcasting.",
        "torch.sub(input, other, alpha=1), or input.sub_(...)",
        ANY,
    ),
    (
        "mul",
        _mul,
        MulAttrs,
        "input * other, elementwise, broadcasting.",
        "torch.mul(input, other), or input.mul_(other)",
        ANY,
    ),
    ("div", torch.div, None, "input / other, elementwise, broadcasting.", "torch.div(input, other)", POSITIVE),
]
for name, fn, attrs, doc, spelled, other_range in _BINARY:
    register(
        name,
        "arithmetic",
        fn,
        ("input", "other"),
        attrs=attrs or NoAttrs,
        doc=doc,
        torch=spelled,
        receptive=POINTWISE,
        spell=call(f"torch.{name}", inplace=f"{name}_" if attrs is not None else None),
        check=checks.broadcastable("input", "other"),
        rule=_RULES[name],
        examples=[
            Example({"input": T((3, 4)), "other": T((3, 4), *other_range)}),
            Example({"input": T((2, 3, 4)), "other": T((4,), *other_range)}),
            # add's and sub's input: a mean that dominates the std (the statistics' second pass)
            Example(
                {
                    "input": T((201, 301), *((1000.0, 1001.0) if name in ("add", "sub") else ANY)),
                    "other": T((201, 301), *other_range),
                },
                large=True,
            ),
        ],
    )

_UNARY: list[tuple[str, Callable[..., torch.Tensor], str, tuple[float, float]]] = [
    ("neg", torch.neg, "-input.", ANY),
    ("exp", torch.exp, "e ** input, elementwise.", ANY),
    ("log", torch.log, "Natural logarithm, elementwise. Negative inputs give NaN.", POSITIVE),
    ("sqrt", torch.sqrt, "Square root, elementwise. Negative inputs give NaN.", POSITIVE),
    ("abs", torch.abs, "Absolute value, elementwise.", ANY),
]
for name, fn, doc, value_range in _UNARY:
    register(
        name,
        "arithmetic",
        fn,
        ("input",),
        doc=doc,
        torch=f"torch.{name}(input)",
        receptive=POINTWISE,
        spell=call(f"torch.{name}"),
        rule=_unary_rule(name),
        examples=[
            Example({"input": T((3, 4), *value_range)}),
            # neg's, log's and sqrt's: a mean that dominates the std (the statistics' second pass;
            # neg's by so much that float64 needs it too)
            Example(
                {
                    "input": T((301, 403), 1e6, 1e6 + 1.0)
                    if name == "neg"
                    else T((301, 403), 1000.0, 1001.0)
                    if name in ("log", "sqrt")
                    else T((1001, 1003), *value_range)  # exp's and abs's: a million elements
                },
                large=True,
            ),
        ],
    )

register(
    "pow",
    "arithmetic",
    torch.pow,
    ("input",),
    attrs=PowAttrs,
    doc="input ** exponent, elementwise. x.pow(3) is pow with exponent 3.",
    torch="torch.pow(input, exponent)",
    receptive=POINTWISE,
    spell=call("torch.pow", positional=("exponent",)),
    rule=BackwardRule(
        _pow_rule,
        {"input": rf"p\,\mathrm{{input}}^{{\,p-1}} \odot {G}"},
        where="p: exponent (zeros where p = 0).",
    ),
    examples=[
        Example({"input": T((3,))}, {"exponent": 3.0}),
        Example({"input": T((2, 3), *POSITIVE)}, {"exponent": 0.5}),
        Example({"input": T((211, 157))}, {"exponent": 3.0}, large=True),
    ],
)
register(
    "matmul",
    "arithmetic",
    torch.matmul,
    ("input", "other"),
    doc=(
        "Matrix product input @ other, with @'s rules: vector·vector, matrix·vector, "
        "matrix·matrix, and batched products broadcasting the leading dimensions."
    ),
    torch="torch.matmul(input, other)  # input @ other",
    receptive=THROUGH_ONES,
    spell=call("torch.matmul"),
    check=checks.matmul,
    cost=_matmul_cost,
    rule=BackwardRule(
        _matmul_rule,
        {"input": rf"{G} \cdot \mathrm{{other}}^{{\top}}", "other": rf"\mathrm{{input}}^{{\top}} \cdot {G}"},
        where="A vector operand is a row (on the left) or a column (on the right), as @ makes it; vector · vector "
        "gives grad_out·other and grad_out·input. Batched products sum over broadcast batch dimensions.",
    ),
    examples=[
        Example({"input": T((5, 5)), "other": T((5,))}),
        Example({"input": T((3, 4)), "other": T((4, 2))}),
        Example({"input": T((2, 3, 4)), "other": T((4, 5))}),
        Example({"input": T((4,)), "other": T((4,))}),
        Example({"input": T((160, 110)), "other": T((110, 170))}, large=True),
    ],
)
register(
    "dot",
    "arithmetic",
    torch.dot,
    ("input", "tensor"),
    doc="Dot product of two 1-D tensors of the same length: u.dot(v).",
    torch="torch.dot(input, tensor)",
    receptive=THROUGH_ONES,
    spell=call("torch.dot"),
    check=checks.dot,
    cost=_dot_cost,
    rule=BackwardRule(
        _dot_rule,
        {"input": rf"{G}\,\mathrm{{tensor}}", "tensor": rf"{G}\,\mathrm{{input}}"},
        where="grad_out is a scalar.",
    ),
    examples=[
        Example({"input": T((10,)), "tensor": T((10,))}),
        Example({"input": T((40_001,)), "tensor": T((40_001,))}, large=True),
    ],
)

"""Arithmetic: elementwise ops, pow, matmul and dot."""

from __future__ import annotations

from collections.abc import Callable

import torch
from pydantic import Field

from dagrad.ops import checks
from dagrad.ops.registry import Attrs, Example, Inputs, NoAttrs, TensorExample, register
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
        spell=call(f"torch.{name}", inplace=f"{name}_" if attrs is not None else None),
        check=checks.broadcastable("input", "other"),
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
        spell=call(f"torch.{name}"),
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
    spell=call("torch.pow", positional=("exponent",)),
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
    spell=call("torch.matmul"),
    check=checks.matmul,
    cost=_matmul_cost,
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
    spell=call("torch.dot"),
    check=checks.dot,
    cost=_dot_cost,
    examples=[
        Example({"input": T((10,)), "tensor": T((10,))}),
        Example({"input": T((40_001,)), "tensor": T((40_001,))}, large=True),
    ],
)

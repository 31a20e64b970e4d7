"""Tensor sources: input, parameter and constant.

A source has a shape, a dtype, requires_grad and an init. Random inits draw
from one CPU generator seeded with the run's seed, source after source in the
order the nodes are listed, so the same graph and seed give the same numbers
on every device; and a notebook that calls `torch.manual_seed(seed)` and then
creates the same tensors in the same order (`torch.rand`, `torch.randn`,
`torch.empty(...).normal_()`) gets exactly dagrad's numbers.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from dagrad.errors import fmt_shape
from dagrad.ops.datasets import DIGIT_PIXELS, DIGITS_COUNT, digit_images, digit_labels
from dagrad.ops.literals import MAX_DIMS, literal_shape, literal_tensor
from dagrad.ops.receptive_rules import SOURCE
from dagrad.ops.registry import Attrs, Inputs, register
from dagrad.ops.spelling import Wiring, sizes

SourceDtype = Literal["float32", "float64", "int64", "bool"]
Init = Literal["zeros", "ones", "full", "arange", "normal", "uniform", "values", "digits", "digit_labels"]

TORCH_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "bool": torch.bool,
}


INT64_MAX = 2**63 - 1  # the largest size PyTorch takes


def attribute_error(attribute: str, message: str) -> ValidationError:
    """A validation error located on one attribute: the compiler reports it there (a model
    validator's own errors would be located on no attribute)."""
    error = InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(attribute,), input=None)
    return ValidationError.from_exception_data("attributes", [error])


class SourceAttrs(Attrs):
    shape: list[int] | None = Field(
        None, description="Size of each dimension; [] is a scalar. Taken from values when init is 'values'."
    )
    dtype: SourceDtype | None = Field(None, description="Null: the run's dtype (float32 or float64).")
    requires_grad: bool = Field(False, description="Track operations on this tensor so gradients reach it.")
    init: Init = Field("normal", description="How the tensor is filled.")
    values: Any = Field(None, description="Literal values (nested lists), for init 'values': torch.tensor(values).")
    value: float = Field(0.0, description="Fill value, for init 'full': torch.full(shape, value).")
    mean: float = Field(0.0, description="For init 'normal': torch.empty(shape).normal_(mean, std).")
    std: float = Field(1.0, ge=0.0, description="For init 'normal'.")
    low: float = Field(0.0, description="For init 'uniform': torch.empty(shape).uniform_(low, high).")
    high: float = Field(1.0, description="For init 'uniform'.")
    start: float = Field(0.0, description="For init 'arange': start + step * torch.arange(numel), reshaped.")
    step: float = Field(1.0, description="For init 'arange'.")

    @model_validator(mode="after")
    def _shape_known(self) -> SourceAttrs:
        """The shape checked, or taken from values when init is 'values' and none is given: each
        check on its own attribute, the literal walked once (in C: ops/literals.py)."""
        shape = self.shape
        if shape is not None:
            _check_sizes(shape)
        if self.init == "values":
            if self.values is None:
                raise attribute_error("values", "init 'values' needs values, e.g. [1.0, 2.0, 4.0]")
            try:
                inferred = literal_shape(self.values)
            except ValueError as exc:
                raise attribute_error("values", str(exc)) from None
            if shape is None:
                shape = inferred
            elif math.prod(shape) != math.prod(inferred):
                raise attribute_error(
                    "shape",
                    f"values hold {math.prod(inferred)} numbers (shape {inferred}) but shape "
                    f"{shape} needs {math.prod(shape)}; drop shape to take the literal's own",
                )
        if shape is None:
            raise attribute_error("shape", "shape is required (e.g. [5, 5]) unless init is 'values'")
        if self.init in DATA_INITS:
            _check_data_shape(self.init, shape)
        if self.init == "uniform" and self.high < self.low:
            raise attribute_error("high", f"uniform needs low <= high; got low={self.low}, high={self.high}")
        if shape is not self.shape:  # frozen, but not yet seen by anyone: set in place, as __init__ would
            object.__setattr__(self, "shape", shape)
        return self

    def resolved_dtype(self, run_dtype: str) -> torch.dtype:
        return TORCH_DTYPES[self.dtype or run_dtype]

    def numel(self) -> int:
        return math.prod(self.shape or [])


def _check_sizes(shape: list[int]) -> None:
    if len(shape) > MAX_DIMS:
        raise attribute_error("shape", f"{len(shape)} dimensions is more than the {MAX_DIMS} a tensor may have")
    if any(d < 0 for d in shape):
        raise attribute_error("shape", f"{fmt_shape(shape)} has a negative size; sizes are 0 or more")
    if any(d > INT64_MAX for d in shape):
        raise attribute_error("shape", f"{fmt_shape(shape)} has a size above 2**63 - 1, the most PyTorch takes")


# Inits that read a data set: their shape says how many images (or labels) to take.
DATA_INITS = ("digits", "digit_labels")


def _check_data_shape(init: str, shape: list[int]) -> None:
    """A digits batch is [N, 1, 8, 8] (or [N, 64], [N, 8, 8]: 64 pixels an image), its labels [N];
    N at most the 1,797 the data set holds."""
    count = shape[0] if shape else 0
    if init == "digits" and (len(shape) < 2 or math.prod(shape[1:]) != DIGIT_PIXELS):
        raise attribute_error(
            "shape",
            f"init 'digits' gives N images of 8x8 pixels: shape [N, 1, 8, 8] (or [N, 64], [N, 8, 8]); got {fmt_shape(shape)}",
        )
    if init == "digit_labels" and len(shape) != 1:
        raise attribute_error(
            "shape", f"init 'digit_labels' gives the labels of N digits: shape [N]; got {fmt_shape(shape)}"
        )
    if count > DIGITS_COUNT:
        raise attribute_error(
            "shape", f"scikit-learn's digits are {DIGITS_COUNT:,} images; {count:,} asked for (the first size)"
        )


class InputAttrs(SourceAttrs):
    pass


class ParameterAttrs(SourceAttrs):
    requires_grad: bool = Field(True, description="Parameters are what gradients are for.")


class ConstantAttrs(SourceAttrs):
    init: Init = Field("full", description="How the tensor is filled.")


def create(attrs: SourceAttrs, dtype: torch.dtype, generator: torch.Generator) -> torch.Tensor:
    """Build the tensor on the CPU (random draws come from `generator`); the caller moves it."""
    shape = list(attrs.shape or [])
    match attrs.init:
        case "zeros":
            t = torch.zeros(shape, dtype=dtype)
        case "ones":
            t = torch.ones(shape, dtype=dtype)
        case "full":
            t = torch.full(shape, attrs.value, dtype=dtype)
        case "arange":
            flat = torch.arange(math.prod(shape), dtype=torch.float64) * attrs.step + attrs.start
            t = flat.to(dtype).reshape(shape)
        case "normal":
            t = torch.empty(shape, dtype=dtype).normal_(attrs.mean, attrs.std, generator=generator)
        case "uniform":
            if dtype.is_floating_point:
                t = torch.empty(shape, dtype=dtype).uniform_(attrs.low, attrs.high, generator=generator)
            else:  # integers in [low, high), like torch.randint
                t = torch.randint(int(attrs.low), int(attrs.high), shape, dtype=dtype, generator=generator)
        case "values":
            t = literal_tensor(attrs.values, dtype).reshape(shape)
        case "digits":
            t = digit_images(shape[0], dtype).reshape(shape)
        case "digit_labels":
            t = digit_labels(shape[0], dtype)
    return t


# Operations per element of each init. A Mersenne Twister draw is about 16 integer operations (the
# twist amortised, the tempering, the conversion to a float); a normal takes two draws, a log, a
# root and a sine (Box-Muller); arange is computed in float64, scaled, shifted and cast; a literal
# is unboxed from a Python object, number by number (bench/op_costs.py measures them).
_INIT_COST: dict[str, float] = {
    "zeros": 1,
    "ones": 1,
    "full": 1,
    "arange": 4,
    "uniform": 16,
    "normal": 32,
    "values": 64,
    "digits": 4,  # a slice of the data set, divided by 16 and cast
    "digit_labels": 2,
}


def _source_cost(inputs: Inputs, out: torch.Tensor, attrs: SourceAttrs) -> float:
    return _INIT_COST[attrs.init] * out.numel()


# A literal longer than this is named, not written out, in the node's line of PyTorch.
SPELLED_NUMBERS = 16


def _floats(values: Any) -> Any:
    """A literal of a floating point source, written as floats (1.0), as torch.tensor needs it to
    make floats; bools and ints a float literal holds are such numbers too."""
    if isinstance(values, list):
        return [_floats(v) for v in values]
    try:
        return float(values)
    except OverflowError:  # an int past float's range: refused by validation, written as given
        return values


def _whole(bound: float) -> str:
    """randint's bound as the int the op draws to; an infinite or NaN one (refused) as given."""
    return str(int(bound)) if math.isfinite(bound) else repr(bound)


def spell_source(wiring: Wiring, attrs: SourceAttrs) -> str:
    """How PyTorch makes the tensor: torch.randn(2, 3, requires_grad=True), torch.tensor([...]),
    torch.full((), 1.0)... (the report gives a source that names no dtype the run's, when the
    run's is not PyTorch's default). Random draws come from the run's seed, source after source."""
    shape = list(attrs.shape or [])
    dims = sizes(shape)
    floating = attrs.dtype in (None, "float32", "float64")
    dtype = [f"dtype=torch.{attrs.dtype}"] if attrs.dtype is not None else []
    grad = ["requires_grad=True"] if attrs.requires_grad else []

    def factory(fn: str, *args: str) -> str:
        return f"{fn}({', '.join([*args, *dtype, *grad])})"

    def computed(expr: str) -> str:  # made from a factory's tensor: requires_grad is set after
        return expr + (".requires_grad_()" if attrs.requires_grad else "")

    def empty() -> str:
        return f"torch.empty({', '.join([dims, *dtype])})"

    match attrs.init:
        case "zeros" | "ones":
            return factory(f"torch.{attrs.init}", dims)
        case "full":
            return factory("torch.full", repr(tuple(shape)), repr(attrs.value))
        case "arange":
            numel = math.prod(shape)
            flat = f"torch.arange({', '.join([repr(float(numel) if floating else numel), *dtype])})"
            scaled = flat + (f" * {attrs.step!r}" if attrs.step != 1.0 else "")
            scaled += f" + {attrs.start!r}" if attrs.start != 0.0 else ""
            expr = flat if scaled == flat else f"({scaled})"
            return computed(expr + ("" if len(shape) == 1 else f".reshape({dims})"))
        case "normal":
            if (attrs.mean, attrs.std) == (0.0, 1.0):
                return factory("torch.randn", dims)
            return computed(f"{empty()}.normal_({attrs.mean!r}, {attrs.std!r})")
        case "uniform":
            if not floating:
                return computed(factory("torch.randint", _whole(attrs.low), _whole(attrs.high), repr(tuple(shape))))
            if (attrs.low, attrs.high) == (0.0, 1.0):
                return factory("torch.rand", dims)
            return computed(f"{empty()}.uniform_({attrs.low!r}, {attrs.high!r})")
        case "values":
            numel = math.prod(shape)
            if numel > SPELLED_NUMBERS:
                return factory("torch.tensor", "values") + f"  # the node's literal: {numel:,} numbers, shape {shape}"
            written = factory("torch.tensor", repr(_floats(attrs.values) if floating else attrs.values))
            return written + ("" if literal_shape(attrs.values) == shape else f".reshape({dims})")
        case "digits":  # scikit-learn's 8x8 images, pixels 0-16 scaled into [0, 1]
            images = f"load_digits().images[:{shape[0]}] / 16"
            return computed(f"torch.tensor({images}, {dtype[0] if dtype else 'dtype=torch.float32'}).reshape({dims})")
        case "digit_labels":
            return computed(factory("torch.tensor", f"load_digits().target[:{shape[0]}]"))


def _doc(kind: str, default_grad: bool, what: str) -> str:
    return f"""{what}

    Attributes: shape, dtype (null: the run's), requires_grad (default {str(default_grad).lower()}),
    and init: zeros, ones, full (value), arange (start, step), normal (mean, std; like torch.randn),
    uniform (low, high; like torch.rand), values (a literal nested list, like torch.tensor),
    digits (the first N of scikit-learn's 8x8 handwritten digits, shape [N, 1, 8, 8], pixels
    divided by 16 into [0, 1]) or digit_labels (their labels 0-9, shape [N]; dtype int64 for
    cross_entropy). Random inits draw in the order the nodes are listed, from the run's seed.
    """


for _name, _attrs, _grad, _what in (
    ("input", InputAttrs, False, "A data tensor fed to the graph, such as x or a batch of images."),
    (
        "parameter",
        ParameterAttrs,
        True,
        "A learnable tensor (requires_grad). Wire it into several ops to share weights.",
    ),
    ("constant", ConstantAttrs, False, "A fixed tensor, such as a target or a scalar like 1.0."),
):
    register(
        _name,
        "sources",
        create,
        (),
        attrs=_attrs,
        doc=_doc(_name, _grad, _what),
        torch="torch.tensor(values, requires_grad=...) / torch.randn(shape) / torch.rand(shape) / ...",
        cost=_source_cost,
        receptive=SOURCE,
        spell=spell_source,
        source=True,
        differentiable=False,
    )

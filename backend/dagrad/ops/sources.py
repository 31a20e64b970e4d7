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
from pydantic import Field, model_validator

from dagrad.ops.registry import Attrs, Inputs, register

SourceDtype = Literal["float32", "float64", "int64", "bool"]
Init = Literal["zeros", "ones", "full", "arange", "normal", "uniform", "values"]

TORCH_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "bool": torch.bool,
}


def literal_shape(values: Any) -> list[int]:
    """Shape of a nested list of numbers; raises ValueError on ragged lists."""
    if not isinstance(values, list):
        if isinstance(values, bool | int | float):
            return []
        raise ValueError(f"values must hold numbers, found {type(values).__name__}")
    if not values:
        return [0]
    shapes = [literal_shape(v) for v in values]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("values is ragged: every row must have the same length")
    return [len(values), *shapes[0]]


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

    @model_validator(mode="before")
    @classmethod
    def _shape_from_values(cls, data: Any) -> Any:
        """init 'values' without a shape takes the literal's own (the model is frozen after)."""
        if isinstance(data, dict) and data.get("init") == "values" and data.get("shape") is None:
            return data if data.get("values") is None else {**data, "shape": literal_shape(data["values"])}
        return data

    @model_validator(mode="after")
    def _shape_known(self) -> SourceAttrs:
        if self.init == "values":
            if self.values is None:
                raise ValueError("init 'values' needs values, e.g. [1.0, 2.0, 4.0]")
            inferred = literal_shape(self.values)
            if self.shape is not None and math.prod(self.shape) != math.prod(inferred):
                raise ValueError(
                    f"values hold {math.prod(inferred)} numbers (shape {inferred}) but shape "
                    f"{self.shape} needs {math.prod(self.shape)}"
                )
        if self.shape is None:
            raise ValueError("shape is required (e.g. [5, 5]) unless init is 'values'")
        if any(d < 0 for d in self.shape):
            raise ValueError(f"shape {self.shape} has a negative size")
        if self.init == "uniform" and self.high < self.low:
            raise ValueError(f"uniform needs low <= high; got low={self.low}, high={self.high}")
        return self

    def resolved_dtype(self, run_dtype: str) -> torch.dtype:
        return TORCH_DTYPES[self.dtype or run_dtype]

    def numel(self) -> int:
        return math.prod(self.shape or [])


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
            t = torch.tensor(attrs.values, dtype=dtype).reshape(shape)
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
}


def _source_cost(inputs: Inputs, out: torch.Tensor, attrs: SourceAttrs) -> float:
    return _INIT_COST[attrs.init] * out.numel()


def _doc(kind: str, default_grad: bool, what: str) -> str:
    return f"""{what}

    Attributes: shape, dtype (null: the run's), requires_grad (default {str(default_grad).lower()}),
    and init: zeros, ones, full (value), arange (start, step), normal (mean, std; like torch.randn),
    uniform (low, high; like torch.rand) or values (a literal nested list, like torch.tensor).
    Random inits draw in the order the nodes are listed, from the run's seed.
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
        source=True,
        differentiable=False,
    )

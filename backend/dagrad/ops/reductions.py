"""Reductions: sum, mean, max, norm."""

from __future__ import annotations

import math

import torch
from pydantic import Field

from dagrad.ops import checks
from dagrad.ops.gradients import OUT, G, dims_of, port, unreduce
from dagrad.ops.receptive_rules import LIKE_SUM, THROUGH_ONES
from dagrad.ops.registry import Attrs, BackwardRule, Example, Grads, Inputs, TensorExample, register
from dagrad.ops.spelling import SpellFn, call

T = TensorExample


class ReduceAttrs(Attrs):
    dim: int | list[int] | None = Field(None, description="Dimension(s) to reduce; null reduces all.")
    keepdim: bool = Field(False, description="Keep reduced dimensions with size 1.")


class MaxAttrs(Attrs):
    dim: int | None = Field(None, description="Dimension to reduce; null takes the max of all.")
    keepdim: bool = Field(False, description="Keep the reduced dimension with size 1.")


class NormAttrs(ReduceAttrs):
    p: float = Field(2.0, description="Order of the norm: 2 is Euclidean (x.norm()), 1 sums |x|.")


def _sum(input: torch.Tensor, dim: int | list[int] | None, keepdim: bool) -> torch.Tensor:
    return input.sum() if dim is None else torch.sum(input, dim, keepdim=keepdim)


def _mean(input: torch.Tensor, dim: int | list[int] | None, keepdim: bool) -> torch.Tensor:
    return input.mean() if dim is None else torch.mean(input, dim, keepdim=keepdim)


def _max(input: torch.Tensor, dim: int | None, keepdim: bool) -> torch.Tensor:
    # With a dim, torch.max returns (values, indices); the node's value is the values.
    return torch.max(input) if dim is None else torch.max(input, dim, keepdim=keepdim).values


def _norm(input: torch.Tensor, p: float, dim: int | list[int] | None, keepdim: bool) -> torch.Tensor:
    out: torch.Tensor = torch.norm(input, p=p, dim=dim, keepdim=keepdim)
    return out


def _norm_cost(inputs: Inputs, out: torch.Tensor, attrs: NormAttrs) -> float:
    """|x| or x² and a sum per element (a general p takes a power too), and a root per result."""
    x = inputs["input"]
    assert isinstance(x, torch.Tensor)
    per_element = 2 if attrs.p in (1.0, 2.0, float("inf"), float("-inf"), 0.0) else 3
    return float(per_element * x.numel() + out.numel())


def _spell_reduction(fn: str, along: str = "") -> SpellFn:
    """torch.sum(x) over all elements (keepdim is then ignored, as the op ignores it), or
    torch.sum(x, dim=1, keepdim=True) along dim (max's values: `along` is its suffix)."""
    whole, by_dim = call(fn, omit=("dim", "keepdim")), call(fn, keyword=("dim",), suffix=along)
    return lambda wiring, attrs: whole(wiring, attrs) if attrs.dim is None else by_dim(wiring, attrs)


# --- local backward rules (BackwardRule) ----------------------------------------------------------

KEPT = "grad_out and out get back the dimensions the reduction dropped (size 1), and broadcast to input's shape."


def _sum_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: ReduceAttrs) -> Grads:
    x = port(inputs, "input")
    return {"input": unreduce(g, x.shape, attrs.dim, attrs.keepdim).expand(x.shape)}


def _mean_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: ReduceAttrs) -> Grads:
    x = port(inputs, "input")
    count = math.prod(x.shape[d] for d in dims_of(attrs.dim, x.dim()))
    return {"input": unreduce(g, x.shape, attrs.dim, attrs.keepdim).expand(x.shape) / count}


def _max_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: MaxAttrs) -> Grads:
    """Over all elements: shared evenly among the elements equal to the max. Along dim: to the
    one element torch.max's indices name."""
    x = port(inputs, "input")
    if attrs.dim is None:
        at_max = x == out
        return {"input": g * at_max / at_max.sum()}
    where = torch.max(x, attrs.dim, keepdim=True).indices
    g = g if attrs.keepdim or x.dim() == 0 else g.unsqueeze(attrs.dim)
    return {"input": torch.zeros_like(x).scatter(attrs.dim if x.dim() else 0, where, g)}


def _norm_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: NormAttrs) -> Grads:
    """PyTorch's norm_backward, case by case: the p-norm's derivative sign(x)·|x|^(p-1)/‖x‖^(p-1),
    zero where the norm is zero, and for p = ±inf shared evenly among the elements at the extreme."""
    x, p = port(inputs, "input"), attrs.p
    g = unreduce(g, x.shape, attrs.dim, attrs.keepdim)
    norm = unreduce(out, x.shape, attrs.dim, attrs.keepdim)
    if p == 0:
        return {"input": torch.zeros_like(x)}
    if p == 1:
        return {"input": torch.sgn(x) * g}
    if math.isinf(p):
        at = x.abs() == norm
        count = at.sum(dim=dims_of(attrs.dim, x.dim()), keepdim=True) if x.dim() else at
        return {"input": torch.sgn(x) * at * g / count}
    if p == 2:
        return {"input": (x * (g / norm)).masked_fill(norm == 0, 0)}
    if p < 1:
        scaled = (torch.sgn(x) * x.abs().pow(p - 1)).masked_fill(x == 0, 0)
        return {"input": scaled * g * norm.pow(1 - p)}
    scaled = torch.sgn(x) * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
    return {"input": (scaled * g / norm.pow(p - 1)).masked_fill(norm == 0, 0)}


_in_range = checks.dim_in_range("input", "dim")
register(
    "sum",
    "reductions",
    _sum,
    ("input",),
    attrs=ReduceAttrs,
    doc="Sum of the elements, over all or over dim.",
    torch="torch.sum(input, dim=None, keepdim=False)",
    receptive=THROUGH_ONES,
    spell=_spell_reduction("torch.sum"),
    check=_in_range,
    rule=BackwardRule(_sum_rule, {"input": rf"\operatorname{{expand}}({G})"}, where=KEPT),
    examples=[
        Example({"input": T((3, 4))}),
        Example({"input": T((2, 3, 4))}, {"dim": [0, 2], "keepdim": True}),
        Example({"input": T((190, 231))}, large=True),
        Example({"input": T((3, 130, 171))}, {"dim": 0, "keepdim": True}, large=True),
    ],
)
register(
    "mean",
    "reductions",
    _mean,
    ("input",),
    attrs=ReduceAttrs,
    doc="Mean of the elements, over all or over dim.",
    torch="torch.mean(input, dim=None, keepdim=False)",
    receptive=THROUGH_ONES,
    spell=_spell_reduction("torch.mean"),
    check=_in_range,
    rule=BackwardRule(
        _mean_rule, {"input": rf"\operatorname{{expand}}({G}) \,/\, n"}, where=f"n: the elements averaged. {KEPT}"
    ),
    examples=[
        Example({"input": T((3, 4))}),
        Example({"input": T((3, 4))}, {"dim": 1}),
        # a mean that dominates the std (the statistics' second pass); the gradient is constant
        Example({"input": T((150, 171), 1000.0, 1001.0)}, large=True),
        Example({"input": T((150, 3, 171))}, {"dim": [1]}, large=True),
    ],
)
register(
    "max",
    "reductions",
    _max,
    ("input",),
    attrs=MaxAttrs,
    doc="Largest element, over all or along dim (the values; the gradient flows to the argmax).",
    torch="torch.max(input) / torch.max(input, dim, keepdim).values",
    receptive=LIKE_SUM,
    spell=_spell_reduction("torch.max", ".values"),
    check=_in_range,
    rule=BackwardRule(
        _max_rule,
        {"input": rf"{G} \odot \mathbb{{1}}[\mathrm{{input}} = {OUT}] \,/\, n"},
        where="The gradient goes to the maximum: over all elements, shared among the n elements equal to it; "
        f"along dim, all of it to the one element torch.max's indices name (n = 1). {KEPT}",
    ),
    examples=[
        Example({"input": T((3, 4))}),
        Example({"input": T((3, 4))}, {"dim": 0, "keepdim": True}),
        Example({"input": T((200, 151))}, large=True),
        Example({"input": T((3, 19_001))}, {"dim": 0}, large=True),
    ],
)
register(
    "norm",
    "reductions",
    _norm,
    ("input",),
    attrs=NormAttrs,
    doc="p-norm of the elements (x.norm() is the 2-norm of all of them).",
    torch="torch.norm(input, p=2, dim=None, keepdim=False)",
    receptive=LIKE_SUM,
    spell=call("torch.norm"),
    check=_in_range,
    rule=BackwardRule(
        _norm_rule,
        {
            "input": rf"{G} \odot \operatorname{{sign}}(\mathrm{{input}}) \odot "
            rf"|\mathrm{{input}}|^{{\,p-1}} \,/\, {OUT}^{{\,p-1}}"
        },
        where="p = 2: grad_out·input/out; p = 1: grad_out·sign(input); p = ±inf: shared evenly among the elements "
        f"at the extreme; p = 0: zeros; zero where out is 0. {KEPT}",
    ),
    cost=_norm_cost,
    examples=[
        Example({"input": T((5,))}),
        Example({"input": T((3, 4))}, {"p": 1.0, "dim": 1}),
        Example({"input": T((190, 171))}, large=True),
        Example({"input": T((17_001, 3), 0.5, 2.0)}, {"p": 1.0, "dim": 1}, large=True),
    ],
)

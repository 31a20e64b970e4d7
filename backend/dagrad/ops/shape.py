"""Shape ops: reshape, view, flatten, transpose, permute, index, cat, stack, squeeze, unsqueeze."""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field

from dagrad.errors import fmt_shape
from dagrad.ops import checks
from dagrad.ops.gradients import G, port
from dagrad.ops.receptive_rules import THROUGH_ONES
from dagrad.ops.registry import Attrs, BackwardRule, Example, Grads, Inputs, Port, PortProblem, TensorExample, register
from dagrad.ops.spelling import Wiring, call, method

T = TensorExample


class ShapeAttrs(Attrs):
    shape: list[int] = Field(description="The new shape; one entry may be -1 (inferred), as in x.view(-1, 256).")


class FlattenAttrs(Attrs):
    start_dim: int = Field(0, description="First dimension to flatten.")
    end_dim: int = Field(-1, description="Last dimension to flatten.")


class TransposeAttrs(Attrs):
    dim0: int = Field(0, description="First dimension to swap.")
    dim1: int = Field(1, description="Second dimension to swap.")


class PermuteAttrs(Attrs):
    dims: list[int] = Field(description="The new order of the dimensions, e.g. [2, 0, 1].")


class SelectAttrs(Attrs):
    dim: int = Field(0, description="Dimension to index; w[i] indexes dimension 0.")
    index: int = Field(0, description="The index i (negative counts from the end).")


class CatAttrs(Attrs):
    dim: int = Field(0, description="Dimension along which to join.")


class SqueezeAttrs(Attrs):
    dim: int | None = Field(None, description="Dimension of size 1 to remove; null removes all of them.")


class UnsqueezeAttrs(Attrs):
    dim: int = Field(0, description="Where to insert the new dimension of size 1.")


def _check_new_shape(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x = inputs.get("input")
    if not isinstance(x, torch.Tensor):
        return []
    shape = attrs.shape
    if sum(1 for d in shape if d == -1) > 1:
        return [
            PortProblem(
                None,
                f"shape {fmt_shape(shape)} has more than one -1; only one size can be inferred.",
                "shape",
                "bad_attribute",
            )
        ]
    known = math.prod(d for d in shape if d != -1)
    fits = known == x.numel() if -1 not in shape else known != 0 and x.numel() % known == 0
    if not fits:
        return [
            PortProblem(
                None,
                f"input {fmt_shape(x.shape)} has {x.numel()} elements; shape {fmt_shape(shape)} "
                + (f"holds {known}." if -1 not in shape else f"needs a multiple of {known}.")
                + " The product of the sizes must equal the number of elements.",
                "shape",
                "bad_attribute",
            )
        ]
    return []


def _view(input: torch.Tensor, shape: list[int]) -> torch.Tensor:
    return input.view(shape)


def _permute(input: torch.Tensor, dims: list[int]) -> torch.Tensor:
    return input.permute(dims)


def _squeeze(input: torch.Tensor, dim: int | None) -> torch.Tensor:
    return torch.squeeze(input) if dim is None else torch.squeeze(input, dim)


def _check_same_shapes(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    tensors = inputs.get("tensors")
    if not isinstance(tensors, list) or not tensors:
        return []
    first = tensors[0].shape
    for i, t in enumerate(tensors[1:], start=1):
        if t.shape != first:
            return [
                PortProblem(
                    "tensors",
                    f"stack needs tensors of one shape: tensors[0] is {fmt_shape(first)}, tensors[{i}] is {fmt_shape(t.shape)}.",
                )
            ]
    return []


def _check_cat(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    tensors = inputs.get("tensors")
    if not isinstance(tensors, list) or not tensors:
        return []
    first = tensors[0]
    if first.dim() == 0:
        return [PortProblem("tensors", "cat cannot join scalars; unsqueeze them or use stack.")]
    dim = attrs.dim % first.dim() if -first.dim() <= attrs.dim < first.dim() else None
    if dim is None:
        return [
            PortProblem(
                None,
                f"dim={attrs.dim} is out of range for tensors of shape {fmt_shape(first.shape)}.",
                "dim",
                "bad_attribute",
            )
        ]
    for i, t in enumerate(tensors[1:], start=1):
        rest = [s for j, s in enumerate(t.shape) if j != dim]
        if t.dim() != first.dim() or rest != [s for j, s in enumerate(first.shape) if j != dim]:
            return [
                PortProblem(
                    "tensors",
                    f"cat along dim {attrs.dim} needs equal sizes in every other dimension: tensors[0] is "
                    f"{fmt_shape(first.shape)}, tensors[{i}] is {fmt_shape(t.shape)}.",
                )
            ]
    return []


_select = call("torch.select", positional=("dim", "index"))


def _spell_index(wiring: Wiring, attrs: SelectAttrs) -> str:
    """w[i] for dim 0, as the chapter writes it; torch.select(w, dim, i) along another."""
    return f"{wiring['input']}[{attrs.index}]" if attrs.dim == 0 else _select(wiring, attrs)


def _index_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """A view: at most the slice read and written, as a copy would."""
    return 2.0 * out.numel()


def _index_backward(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """The input's whole gradient zero-filled, then the slice's copied in: far more than the
    forward when the slice is thin, which the backward rule would miss."""
    x = inputs["input"]
    assert isinstance(x, torch.Tensor)
    return float(x.numel() + out.numel())


# --- local backward rules (BackwardRule): the same elements moved back ----------------------------


def _back_to_shape(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: object) -> Grads:
    return {"input": g.reshape(port(inputs, "input").shape)}


RESHAPED = BackwardRule(
    _back_to_shape,
    {"input": rf"\operatorname{{reshape}}({G},\ \text{{input's shape}})"},
    where="The same elements in the same order: the gradient takes the input's shape back.",
)


def _transpose_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: TransposeAttrs) -> Grads:
    return {"input": g.transpose(attrs.dim0, attrs.dim1)}


def _permute_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: PermuteAttrs) -> Grads:
    n = max(g.dim(), 1)
    inverse = [0] * len(attrs.dims)
    for i, d in enumerate(attrs.dims):
        inverse[d % n] = i
    return {"input": g.permute(inverse)}


def _select_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: SelectAttrs) -> Grads:
    grad = torch.zeros_like(port(inputs, "input"))
    grad.select(attrs.dim, attrs.index).copy_(g)
    return {"input": grad}


def _cat_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: CatAttrs) -> Grads:
    tensors = inputs["tensors"]
    assert isinstance(tensors, list)
    return {"tensors": list(torch.split(g, [t.shape[attrs.dim] for t in tensors], dim=attrs.dim))}


def _stack_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: CatAttrs) -> Grads:
    return {"tensors": list(torch.unbind(g, dim=attrs.dim))}


register(
    "reshape",
    "shape",
    torch.reshape,
    ("input",),
    attrs=ShapeAttrs,
    doc="The same elements in a new shape (copies only when it must).",
    torch="torch.reshape(input, shape)",
    receptive=THROUGH_ONES,
    spell=call("torch.reshape", positional=("shape",)),
    rule=RESHAPED,
    check=_check_new_shape,
    examples=[
        Example({"input": T((3, 4))}, {"shape": [2, -1]}),
        Example({"input": T((201, 301), 1000.0, 1001.0)}, {"shape": [301, -1]}, large=True),
    ],
)
register(
    "view",
    "shape",
    _view,
    ("input",),
    attrs=ShapeAttrs,
    doc="A view of the same memory in a new shape, as in x.view(-1, 256). Needs compatible strides.",
    torch="input.view(shape)",
    receptive=THROUGH_ONES,
    spell=method("view", star="shape"),
    rule=RESHAPED,
    check=_check_new_shape,
    examples=[
        Example({"input": T((2, 3, 4))}, {"shape": [-1, 12]}),
        Example({"input": T((7, 61, 53))}, {"shape": [-1, 53]}, large=True),
    ],
)
register(
    "flatten",
    "shape",
    torch.flatten,
    ("input",),
    attrs=FlattenAttrs,
    doc="Merge dimensions start_dim..end_dim into one.",
    torch="torch.flatten(input, start_dim=0, end_dim=-1)",
    receptive=THROUGH_ONES,
    spell=call("torch.flatten"),
    rule=RESHAPED,
    check=checks.dim_in_range("input", "start_dim", "end_dim"),
    examples=[
        Example({"input": T((2, 3, 4))}, {"start_dim": 1}),
        Example({"input": T((7, 61, 53))}, {"start_dim": 1}, large=True),
    ],
)
register(
    "transpose",
    "shape",
    torch.transpose,
    ("input",),
    attrs=TransposeAttrs,
    doc="Swap two dimensions; a matrix's transpose is transpose(0, 1).",
    torch="torch.transpose(input, dim0, dim1)",
    receptive=THROUGH_ONES,
    spell=call("torch.transpose", positional=("dim0", "dim1")),
    rule=BackwardRule(
        _transpose_rule,
        {"input": rf"\operatorname{{transpose}}({G},\ \mathrm{{dim0}}, \mathrm{{dim1}})"},
        where="Swapped back.",
    ),
    check=checks.dim_in_range("input", "dim0", "dim1"),
    examples=[
        Example({"input": T((3, 4))}),
        Example({"input": T((2, 3, 4))}, {"dim0": 0, "dim1": 2}),
        # a non-contiguous value whose mean dominates its std so much that float64 needs the
        # statistics' second pass too
        Example({"input": T((170, 191), 1e6, 1e6 + 1.0)}, large=True),
    ],
)
register(
    "permute",
    "shape",
    _permute,
    ("input",),
    attrs=PermuteAttrs,
    doc="Reorder all dimensions.",
    torch="torch.permute(input, dims)",
    receptive=THROUGH_ONES,
    spell=method("permute", star="dims"),
    rule=BackwardRule(
        _permute_rule,
        {"input": rf"\operatorname{{permute}}({G},\ \mathrm{{dims}}^{{-1}})"},
        where="dims⁻¹: the inverse permutation, putting each dimension back.",
    ),
    check=checks.dim_in_range("input", "dims"),
    examples=[
        Example({"input": T((2, 3, 4))}, {"dims": [2, 0, 1]}),
        Example({"input": T((17, 23, 61))}, {"dims": [2, 0, 1]}, large=True),
    ],
)
register(
    "index",
    "shape",
    torch.select,
    ("input",),
    attrs=SelectAttrs,
    doc="One slice along dim: w[i] is index with dim 0 and index i. The result has one dimension less.",
    torch="torch.select(input, dim, index)  # input[i] for dim 0",
    receptive=THROUGH_ONES,
    spell=_spell_index,
    rule=BackwardRule(
        _select_rule,
        {"input": rf"\text{{zeros of input's shape, with }} {G} \text{{ at }} [\mathrm{{index}}] \text{{ along dim}}"},
        where="Only the selected slice influenced the output: the rest of the input gets zeros.",
    ),
    check=checks.dim_in_range("input", "dim"),
    cost=_index_cost,
    backward_cost=_index_backward,
    examples=[
        Example({"input": T((3, 4, 4))}, {"index": 1}),
        Example({"input": T((3, 4))}, {"dim": 1, "index": -1}),
        Example({"input": T((150, 3, 131))}, {"dim": 1, "index": -1}, large=True),
    ],
)
register(
    "cat",
    "shape",
    torch.cat,
    (Port("tensors", "Tensors to join, in order.", variadic=True),),
    attrs=CatAttrs,
    doc="Join tensors along an existing dimension.",
    torch="torch.cat(tensors, dim=0)",
    receptive=THROUGH_ONES,
    spell=call("torch.cat"),
    rule=BackwardRule(
        _cat_rule,
        {"tensors": rf"\operatorname{{split}}({G},\ \text{{the tensors' sizes along dim}})_i"},
        where="Tensor i gets the part of grad_out its own elements went to.",
    ),
    check=_check_cat,
    examples=[
        Example({"tensors": [T((2, 3)), T((4, 3))]}),
        Example({"tensors": [T((2, 3)), T((2, 1))]}, {"dim": 1}),
        Example({"tensors": [T((130, 141)), T((130, 127))]}, {"dim": 1}, large=True),
    ],
)
register(
    "stack",
    "shape",
    torch.stack,
    (Port("tensors", "Tensors of one shape, in order.", variadic=True),),
    attrs=CatAttrs,
    doc="Join tensors of one shape along a new dimension.",
    torch="torch.stack(tensors, dim=0)",
    receptive=THROUGH_ONES,
    spell=call("torch.stack"),
    rule=BackwardRule(
        _stack_rule,
        {"tensors": rf"{G}[\,\dots, i, \dots] \text{{ (index i along dim)}}"},
        where="Tensor i gets the slice of grad_out at index i along the new dimension.",
    ),
    check=_check_same_shapes,
    examples=[
        Example({"tensors": [T((2, 3)), T((2, 3)), T((2, 3))]}, {"dim": 1}),
        Example({"tensors": [T((130, 131)), T((130, 131)), T((130, 131))]}, {"dim": 1}, large=True),
    ],
)
register(
    "squeeze",
    "shape",
    _squeeze,
    ("input",),
    attrs=SqueezeAttrs,
    doc="Remove dimensions of size 1 (all of them, or only dim).",
    torch="torch.squeeze(input, dim=None)",
    receptive=THROUGH_ONES,
    spell=call("torch.squeeze"),
    rule=RESHAPED,
    check=checks.dim_in_range("input", "dim"),
    examples=[
        Example({"input": T((3, 1, 4, 1))}),
        Example({"input": T((3, 1, 4))}, {"dim": 1}),
        Example({"input": T((150, 1, 131, 1))}, large=True),
    ],
)
register(
    "unsqueeze",
    "shape",
    torch.unsqueeze,
    ("input",),
    attrs=UnsqueezeAttrs,
    doc="Insert a dimension of size 1 at dim (e.g. to make a batch of one).",
    torch="torch.unsqueeze(input, dim)",
    receptive=THROUGH_ONES,
    spell=call("torch.unsqueeze", positional=("dim",)),
    rule=RESHAPED,
    check=checks.dim_in_range("input", "dim", extra=1),
    examples=[Example({"input": T((3, 4))}, {"dim": 1}), Example({"input": T((150, 131))}, {"dim": 1}, large=True)],
)

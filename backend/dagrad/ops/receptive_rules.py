"""Structural receptive fields: which elements of each input an output element can depend on,
whatever the data, from the op's shapes and attributes alone.

A rule maps a boolean mask over the op's output (the elements asked about) to one mask per input
port (every element any of them can depend on). The graph's field is these rules chained from the
clicked element back to the sources (dagrad/receptive.py). Kinds of rule:

- pointwise: out[i] depends on each input at i, broadcasting undone (relu, add, mse_loss 'none');
- through ones: for ops that are a sum of products of their inputs with positive coefficients
  (matmul, linear, conv, avg_pool, sum, mean, and every data movement), the op's own backward at
  all-ones inputs sends the mask back as sums of positive terms: non-zero exactly where an input
  element appears in the output element's formula. It reads no data, only shapes and attributes;
- windows: max pooling's windows (kernel_size, stride, padding, dilation, ceil_mode), as a
  depthwise convolution of ones with the same windows;
- along a dimension (softmax), by reduction (max, norm), or everything (a reduced loss).

An op whose `receptive` is None has no rule: the field is reported unknown there, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from dagrad.ops.windows import out_size, per_dim

Shape = tuple[int, ...]
# Each port's shape (a list for a list port; None where an optional port is unwired).
Shapes = Mapping[str, Shape | list[Shape] | None]
Masks = dict[str, torch.Tensor | list[torch.Tensor] | None]
# call(inputs, attrs): the op itself (OpDef.call), for rules that run it on ones.
Call = Callable[[Mapping[str, Any], Any], torch.Tensor]
ReceptiveFn = Callable[[Shapes, torch.Tensor, Any, Call], Masks]


@dataclass(frozen=True)
class ReceptiveRule:
    """How an op's output elements depend on its inputs' elements, structurally."""

    code: ReceptiveFn
    kind: str  # in words, for GET /api/ops and the docs


def _unbroadcast(mask: torch.Tensor, shape: Shape) -> torch.Tensor:
    """The elements of a tensor of `shape`, broadcast to the mask's shape, that some masked
    element reads: an any() over every broadcast dimension."""
    lead = mask.dim() - len(shape)
    m = mask.any(dim=tuple(range(lead))) if lead > 0 else mask
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and m.shape[i] != 1)
    if dims:
        m = m.any(dim=dims, keepdim=True)
    return m.expand(shape).clone()


def _pointwise(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    out: Masks = {}
    for port, shape in shapes.items():
        out[port] = None if shape is None or isinstance(shape, list) else _unbroadcast(mask, shape)
    return out


POINTWISE = ReceptiveRule(_pointwise, "pointwise: out[i] depends on each input at i (broadcasting undone)")


def _ones(shape: Shape) -> torch.Tensor:
    return torch.ones(shape, dtype=torch.float64, requires_grad=True)


def _through_ones(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    leaves: dict[str, torch.Tensor | list[torch.Tensor]] = {}
    for port, shape in shapes.items():
        if shape is not None:
            leaves[port] = [_ones(s) for s in shape] if isinstance(shape, list) else _ones(shape)
    flat = [t for v in leaves.values() for t in (v if isinstance(v, list) else [v])]
    out = call(leaves, attrs)
    grads = torch.autograd.grad(out, flat, mask.to(torch.float64), allow_unused=True)
    found = iter(grads)

    def support(t: torch.Tensor) -> torch.Tensor:
        g = next(found)
        return torch.zeros(t.shape, dtype=torch.bool) if g is None else g != 0

    result: Masks = dict.fromkeys(shapes)
    for port, v in leaves.items():
        result[port] = [support(t) for t in v] if isinstance(v, list) else support(v)
    return result


THROUGH_ONES = ReceptiveRule(
    _through_ones, "a sum of products of the inputs: out[i] depends on every element its formula holds"
)


def pool_windows(spatial: int) -> ReceptiveRule:
    def rule(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
        shape = shapes["input"]
        assert isinstance(shape, tuple)
        k = per_dim(attrs.kernel_size, spatial)
        s = per_dim(attrs.stride, spatial) if attrs.stride is not None else k
        p, d = per_dim(attrs.padding, spatial), per_dim(attrs.dilation, spatial)
        x = _ones(shape)
        batched = x if x.dim() == spatial + 2 else x.unsqueeze(0)
        sizes = shape[-spatial:]
        outs = [out_size(sizes[i], k[i], s[i], p[i], d[i], attrs.ceil_mode) for i in range(spatial)]
        # Right padding long enough for ceil_mode's last window; padded elements are not the input's.
        right = [max(p[i], (outs[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - sizes[i] - p[i]) for i in range(spatial)]
        pads: list[int] = []
        for i in reversed(range(spatial)):
            pads += [p[i], right[i]]
        channels = batched.shape[1]
        weight = torch.ones(channels, 1, *k, dtype=torch.float64)
        conv = F.conv1d if spatial == 1 else F.conv2d
        y = conv(F.pad(batched, pads), weight, stride=s, dilation=d, groups=channels)
        y = y[..., : outs[0]] if spatial == 1 else y[..., : outs[0], : outs[1]]
        g = mask.to(torch.float64).reshape(y.shape)
        (grad,) = torch.autograd.grad(y, x, g)
        return {"input": grad != 0}

    return ReceptiveRule(rule, "windows: out[i] depends on its window (kernel_size, stride, padding, dilation)")


def _along_dim(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    shape = shapes["input"]
    assert isinstance(shape, tuple)
    if not shape:
        return {"input": mask.clone()}
    return {"input": mask.any(dim=attrs.dim, keepdim=True).expand(shape).clone()}


ALONG_DIM = ReceptiveRule(_along_dim, "along dim: out[i] depends on the whole slice of i along dim")


def _like_sum(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    def total(inputs: Mapping[str, Any], a: Any) -> torch.Tensor:
        x = inputs["input"]
        return x.sum() if a.dim is None else torch.sum(x, a.dim, keepdim=a.keepdim)

    return _through_ones(shapes, mask, attrs, total)


LIKE_SUM = ReceptiveRule(_like_sum, "a reduction: out[i] depends on every element reduced into it")


def _everything(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    some = bool(mask.any())
    out: Masks = {}
    for port, shape in shapes.items():
        if shape is None:
            out[port] = None
        elif isinstance(shape, list):
            out[port] = [torch.full(s, some) for s in shape]
        else:
            out[port] = torch.full(shape, some)
    return out


def _class_loss(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    """cross_entropy, nll_loss: reduced, the scalar depends on everything; with 'none', loss[n, d...]
    on input[n, :, d...] (every class), target[n, d...] (or target[n, :, d...] for probabilities)
    and every class weight."""
    x, target = shapes["input"], shapes["target"]
    assert isinstance(x, tuple)
    assert isinstance(target, tuple)
    if attrs.reduction != "none" or len(x) == 1:
        return _everything(shapes, mask, attrs, call)
    row = mask.unsqueeze(1).expand(x).clone()
    out: Masks = {"input": row, "target": row.clone() if target == x else mask.clone(), "weight": None}
    if shapes.get("weight") is not None:
        w = shapes["weight"]
        assert isinstance(w, tuple)
        out["weight"] = torch.full(w, bool(mask.any()))
    return out


CLASS_LOSS = ReceptiveRule(_class_loss, "a class loss: loss[n] depends on row n of input (every class) and target[n]")


def _loss(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    if attrs.reduction == "none":
        return _pointwise(shapes, mask, attrs, call)
    return _everything(shapes, mask, attrs, call)


ELEMENTWISE_LOSS = ReceptiveRule(_loss, "an elementwise loss: pointwise with 'none', else every element")


def _source(shapes: Shapes, mask: torch.Tensor, attrs: Any, call: Call) -> Masks:
    return {}


SOURCE = ReceptiveRule(_source, "a source: it depends on no other node")

"""The layers' local backward rules (BackwardRule), for every attribute the layers take.

A convolution's gradients are written with im2col (F.unfold) and its transpose (F.fold), which
are the convolution's own arithmetic laid out as a matrix product: the weight's gradient is
grad_out times the input's patches, and the input's is the transposed convolution, grad_out
spread back over the patches it came from. Padding, 'same' included (which may pad one more on
the right), is applied first and cropped off after; a 1-D convolution is a 2-D one of height 1.
Max pooling routes each output's gradient to the element its window's maximum came from (the
indices the forward returns); average pooling spreads it evenly over its window, divided by what
the forward divided by.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from dagrad.ops.gradients import G, optional, port
from dagrad.ops.registry import BackwardRule, Grads, Inputs

Pair = tuple[int, int]


def _pair(v: Any, spatial: int) -> tuple[int, ...]:
    """An int or a list of them, one per spatial dimension (one given for all)."""
    values = (int(v),) * spatial if isinstance(v, int) else tuple(int(x) for x in v)
    return values if len(values) == spatial else values * spatial


def _pads(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...], spatial: int) -> list[Pair]:
    """(before, after) per spatial dimension: 'same' pads d·(k - 1) in all, the odd one after."""
    if padding == "valid":
        return [(0, 0)] * spatial
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return [(t // 2, t - t // 2) for t in total]
    return [(p, p) for p in _pair(padding, spatial)]


def _as_2d(x: torch.Tensor, spatial: int) -> torch.Tensor:
    """N×C×H×W: a batch of one for an unbatched input, height 1 for 1-D."""
    if x.dim() == spatial + 1:
        x = x.unsqueeze(0)
    return x.unsqueeze(2) if spatial == 1 else x


def _lift(values: tuple[int, ...], spatial: int, fill: int) -> tuple[int, ...]:
    return (fill, *values) if spatial == 1 else values


def conv_rule(spatial: int) -> BackwardRule:
    def rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Any) -> Grads:
        x, w, b = port(inputs, "input"), port(inputs, "weight"), optional(inputs, "bias")
        kernel = tuple(w.shape[2:])
        stride, dilation = _pair(attrs.stride, spatial), _pair(attrs.dilation, spatial)
        pads = _pads(attrs.padding, kernel, dilation, spatial)
        x4, g4 = _as_2d(x, spatial), _as_2d(g, spatial)
        w4 = w.unsqueeze(2) if spatial == 1 else w
        k2, s2, d2 = _lift(kernel, spatial, 1), _lift(stride, spatial, 1), _lift(dilation, spatial, 1)
        p2 = [(0, 0), *pads] if spatial == 1 else pads
        padded = F.pad(x4, (p2[1][0], p2[1][1], p2[0][0], p2[0][1]))
        n = x4.shape[0]
        o, groups = w.shape[0], attrs.groups
        patches = F.unfold(padded, k2, dilation=d2, stride=s2)  # N × (C·kh·kw) × L
        length = patches.shape[-1]
        patches = patches.reshape(n, groups, -1, length)
        grads = g4.reshape(n, groups, o // groups, length)
        weights = w4.reshape(groups, o // groups, -1)
        grad_w = torch.einsum("ngol,ngkl->gok", grads, patches).reshape(w.shape)
        grad_patches = torch.einsum("gok,ngol->ngkl", weights, grads).reshape(n, -1, length)
        grad_padded = F.fold(grad_patches, padded.shape[2:], k2, dilation=d2, stride=s2)
        h, wd = x4.shape[2:]
        grad_x = grad_padded[:, :, p2[0][0] : p2[0][0] + h, p2[1][0] : p2[1][0] + wd].reshape(x.shape)
        grad_b = None if b is None else g4.sum(dim=(0, 2, 3))
        return {"input": grad_x, "weight": grad_w, "bias": grad_b}

    return BackwardRule(
        rule,
        {
            "input": rf"\operatorname{{conv\_transpose}}({G},\ \mathrm{{weight}})",
            "weight": rf"\textstyle\sum_n {G}_n \star \mathrm{{input}}_n",
            "bias": rf"\textstyle\sum_{{n,\,\text{{positions}}}} {G}",
        },
        where="conv_transpose: the transposed convolution, with the forward's stride, padding, dilation and groups: "
        "each output position's gradient spread back over the input patch it was computed from, through the "
        "kernel. ⋆: the cross-correlation of the input with grad_out, patch by patch, one kernel tap per input "
        "offset, within each group.",
    )


def max_pool_rule(spatial: int) -> BackwardRule:
    pool = F.max_pool1d if spatial == 1 else F.max_pool2d

    def rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Any) -> Grads:
        x = port(inputs, "input")
        _, where = pool(
            x, attrs.kernel_size, attrs.stride, attrs.padding, attrs.dilation, attrs.ceil_mode, return_indices=True
        )
        lead = x.shape[:-spatial]
        grad = torch.zeros(*lead, math.prod(x.shape[-spatial:]), dtype=g.dtype, device=g.device)
        grad.scatter_add_(-1, where.flatten(-spatial), g.flatten(-spatial))
        return {"input": grad.reshape(x.shape)}

    return BackwardRule(
        rule,
        {
            "input": rf"\textstyle\sum_{{\text{{windows}}}} {G}_{{\text{{window}}}} \cdot \mathbb{{1}}[\text{{the window's argmax}}]"
        },
        where="Routing to the argmax: each output's gradient goes to the one input element its window's maximum "
        "came from; the other elements of the window get none. Where windows overlap, an element that is the "
        "maximum of several adds their gradients.",
    )


def _divisors(size: int, out: int, k: int, s: int, p: int, include_pad: bool) -> torch.Tensor:
    """What each output position along one dimension was divided by (one factor of the window's
    count): its window clipped to the padded input, or to the input itself without the padding."""
    start = torch.arange(out) * s - p
    end = torch.clamp(start + k, max=size + p)
    if include_pad:
        return (end - start).to(torch.float64)
    return (torch.clamp(end, max=size) - torch.clamp(start, min=0)).to(torch.float64)


def _avg_pool_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Any) -> Grads:
    x = port(inputs, "input")
    kernel = _pair(attrs.kernel_size, 2)
    stride = _pair(attrs.stride, 2) if attrs.stride is not None else kernel
    pads = _pair(attrs.padding, 2)
    size, outs = list(x.shape[-2:]), list(g.shape[-2:])
    if attrs.divisor_override:
        divisor = torch.full(outs, float(attrs.divisor_override), dtype=torch.float64)
    else:
        per_dim = [_divisors(size[i], outs[i], kernel[i], stride[i], pads[i], attrs.count_include_pad) for i in (0, 1)]
        divisor = per_dim[0][:, None] * per_dim[1][None, :]
    g4 = (g / divisor.to(g)).reshape(-1, 1, *outs)
    # Every window laid on a canvas that starts at the padding's start and holds the last window
    # whole (ceil_mode may run it past the padding); cropped to the input after.
    canvas = tuple((outs[i] - 1) * stride[i] + kernel[i] for i in (0, 1))
    spread = F.fold(g4.reshape(g4.shape[0], 1, -1).expand(-1, math.prod(kernel), -1), canvas, kernel, stride=stride)
    need = [pads[i] + size[i] for i in (0, 1)]
    spread = F.pad(spread, (0, max(0, need[1] - canvas[1]), 0, max(0, need[0] - canvas[0])))
    grad = spread[:, :, pads[0] : pads[0] + size[0], pads[1] : pads[1] + size[1]]
    return {"input": grad.reshape(x.shape)}


AVG_POOL_RULE = BackwardRule(
    _avg_pool_rule,
    {"input": rf"\textstyle\sum_{{\text{{windows}}}} {G}_{{\text{{window}}}} \,/\, n_{{\text{{window}}}}"},
    where="Each output's gradient spread evenly over its window: every element of the window gets grad_out / n, "
    "n being what the forward divided by (divisor_override; else the window's size within the padded input, or "
    "within the input alone when count_include_pad is off).",
)


def _linear_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: object) -> Grads:
    x, w, b = port(inputs, "input"), port(inputs, "weight"), optional(inputs, "bias")
    rows, g_rows = x.reshape(-1, x.shape[-1]), g.reshape(-1, w.shape[0])
    return {
        "input": g @ w,
        "weight": g_rows.T @ rows,
        "bias": None if b is None else g_rows.sum(dim=0),
    }


LINEAR_RULE = BackwardRule(
    _linear_rule,
    {
        "input": rf"{G} \cdot \mathrm{{weight}}",
        "weight": rf"{G}^{{\top}} \cdot \mathrm{{input}}",
        "bias": rf"\textstyle\sum_{{\text{{batch}}}} {G}",
    },
    where="out = input·weightᵀ + bias; the batch (every dimension but the last) is summed over for weight and bias.",
)

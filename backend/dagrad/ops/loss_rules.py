"""The losses' local backward rules (BackwardRule), for every reduction, weight, ignore_index and
label_smoothing the losses take.

cross_entropy is log_softmax then nll_loss, smoothed: its gradient with respect to the
log-probabilities is -q/N, q being the target as weights over the classes, and through
log_softmax that becomes (softmax·Σq - q)/N. A class weight gets no gradient: PyTorch does not
differentiate the losses with respect to it either.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from dagrad.ops.gradients import G, optional, port
from dagrad.ops.registry import BackwardRule, Grads, Inputs

EPSILON = 1e-12  # PyTorch's floor under input·(1 - input) in binary_cross_entropy's backward


def _per_sample(g: torch.Tensor, reduction: str, denominator: torch.Tensor | float) -> torch.Tensor:
    """grad_out as a factor per element (or sample): 'none' gives one already; 'mean' divides."""
    return g / denominator if reduction == "mean" else g


def _mse_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Any) -> Grads:
    x, t = port(inputs, "input"), port(inputs, "target")
    grad = 2 * (x - t) * _per_sample(g, attrs.reduction, x.numel())
    return {"input": grad, "target": -grad}


MSE_RULE = BackwardRule(
    _mse_rule,
    {
        "input": rf"\tfrac{{2}}{{N}}\,(\mathrm{{input}} - \mathrm{{target}}) \odot {G}",
        "target": rf"-\tfrac{{2}}{{N}}\,(\mathrm{{input}} - \mathrm{{target}}) \odot {G}",
    },
    where="N: the number of elements for reduction 'mean', 1 for 'sum' and 'none' (where grad_out has one "
    "element per element of input).",
)


def _class_dim(x: torch.Tensor) -> int:
    return 1 if x.dim() >= 2 else 0


def _along_classes(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A vector over the classes, shaped to broadcast against x (N×C×d1… or C)."""
    return v.reshape(-1, *([1] * (x.dim() - 2))) if x.dim() >= 2 else v


def _per_class(f: torch.Tensor, cdim: int) -> torch.Tensor:
    """A factor per sample given a class dimension to broadcast along (a scalar broadcasts as it is)."""
    return f.unsqueeze(cdim) if f.dim() else f


def _class_weights(
    x: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For class-index targets: the one-hot target (x's shape), each sample's weight w[y] (0 where
    ignored), and whether each sample counts (not ignore_index)."""
    counted = target != ignore_index
    y = torch.where(counted, target, torch.zeros_like(target))
    onehot = F.one_hot(y, x.shape[_class_dim(x)]).to(x.dtype)
    if x.dim() >= 2:
        onehot = onehot.movedim(-1, 1)
    w_y = (weight[y] if weight is not None else torch.ones_like(y, dtype=x.dtype)) * counted
    return onehot, w_y, counted


def _cross_entropy_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Any) -> Grads:
    x, t, weight = port(inputs, "input"), port(inputs, "target"), optional(inputs, "weight")
    cdim, classes, eps = _class_dim(x), x.shape[_class_dim(x)], attrs.label_smoothing
    log_p = F.log_softmax(x, cdim)
    w = torch.ones(classes, dtype=x.dtype) if weight is None else weight
    if t.dtype.is_floating_point:  # probabilities: the mean is over the samples
        q = (t * (1 - eps) + eps / classes) * _along_classes(w, x)
        factor = _per_class(_per_sample(g, attrs.reduction, x.numel() / classes), cdim)
        grad_t = -(1 - eps) * _along_classes(w, x) * log_p * factor
    else:  # class indices: the mean is over the counted samples' weights
        onehot, w_y, counted = _class_weights(x, t, weight, attrs.ignore_index)
        smooth = _along_classes(w, x) * counted.unsqueeze(cdim).to(x.dtype)
        q = (1 - eps) * w_y.unsqueeze(cdim) * onehot + eps / classes * smooth
        factor = _per_class(_per_sample(g, attrs.reduction, w_y.sum()), cdim)
        grad_t = None
    grad_x = factor * (log_p.exp() * q.sum(cdim, keepdim=True) - q)
    return {"input": grad_x, "target": grad_t}


CROSS_ENTROPY_RULE = BackwardRule(
    _cross_entropy_rule,
    {
        "input": rf"\tfrac{{1}}{{N}}\,{G} \odot \big(\operatorname{{softmax}}(\mathrm{{input}})\textstyle\sum_c q_c - q\big)",
        "target": rf"-\tfrac{{1}}{{N}}\,(1 - \varepsilon)\, w \odot \log\operatorname{{softmax}}(\mathrm{{input}}) \odot {G}",
    },
    where="Along the class dimension. q: the target as weights over the classes, (1 − ε)·w_y·onehot(y) + ε·w/C for "
    "class indices y (0 for an ignore_index sample), w·((1 − ε)·target + ε/C) for probabilities; ε: "
    "label_smoothing; w: weight (1 without); C: the classes. N: for 'mean', Σ w_y over the counted samples "
    "(class indices) or the number of samples (probabilities); 1 for 'sum' and 'none'. Only probabilities get "
    "a gradient.",
)


def _nll_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Any) -> Grads:
    x, t, weight = port(inputs, "input"), port(inputs, "target"), optional(inputs, "weight")
    onehot, w_y, _ = _class_weights(x, t, weight, attrs.ignore_index)
    cdim = _class_dim(x)
    factor = _per_sample(g, attrs.reduction, w_y.sum())
    return {"input": -(factor * w_y).unsqueeze(cdim) * onehot}


NLL_RULE = BackwardRule(
    _nll_rule,
    {"input": rf"-\tfrac{{1}}{{N}}\,{G} \odot w_y \odot \operatorname{{onehot}}(\mathrm{{target}})"},
    where="All of a sample's gradient goes to its target class, weighted by w_y = weight[target] (1 without; 0 "
    "for ignore_index). N: for 'mean', Σ w_y over the counted samples; 1 for 'sum' and 'none'.",
)


def _bce_rule(inputs: Inputs, out: torch.Tensor, g: torch.Tensor, attrs: Any) -> Grads:
    x, t, weight = port(inputs, "input"), port(inputs, "target"), optional(inputs, "weight")
    factor = _per_sample(g, attrs.reduction, x.numel()) * (1 if weight is None else weight)
    return {
        "input": factor * (x - t) / torch.clamp(x * (1 - x), min=EPSILON),
        "target": factor * (torch.log1p(-x) - torch.log(x)),
    }


BCE_RULE = BackwardRule(
    _bce_rule,
    {
        "input": rf"\tfrac{{1}}{{N}}\,w \odot {G} \odot \frac{{\mathrm{{input}} - \mathrm{{target}}}}"
        rf"{{\max(\mathrm{{input}}\,(1 - \mathrm{{input}}),\ 10^{{-12}})}}",
        "target": rf"\tfrac{{1}}{{N}}\,w \odot {G} \odot \big(\log(1 - \mathrm{{input}}) - \log \mathrm{{input}}\big)",
    },
    where="Elementwise. w: weight (1 without); N: the number of elements for 'mean', 1 for 'sum' and 'none'.",
)

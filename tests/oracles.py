"""Independent PyTorch oracles for every op of the registry.

Each oracle takes the op's ports and its attributes (every attribute, defaults filled in) as
keyword arguments, as `OpDef.call` passes them, and computes the op the way a user would write it
by hand, from torch primitives. None calls dagrad. Where the only sensible oracle is the torch
function itself (convolutions, pooling, cat), it is a direct positional call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from norm_oracles import NORM_ORACLES

Tensor = torch.Tensor


def _dims(dim: int | list[int] | None, ndim: int) -> list[int]:
    if dim is None:
        return list(range(ndim))
    return [d % max(ndim, 1) for d in ([dim] if isinstance(dim, int) else dim)]


def _reduce(input: Tensor, dim: int | list[int] | None, keepdim: bool) -> Tensor:
    """input summed over dim (all dims when None), keeping them when asked."""
    if dim is None:
        return input.sum()
    return input.sum(dim=_dims(dim, input.dim()), keepdim=keepdim)


def _mean(input: Tensor, dim: int | list[int] | None, keepdim: bool) -> Tensor:
    count = math.prod(input.shape[d] for d in _dims(dim, input.dim()))
    return _reduce(input, dim, keepdim) / count


def _max(input: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    return input.amax() if dim is None else input.amax(dim=dim, keepdim=keepdim)


def _norm(input: Tensor, p: float, dim: int | list[int] | None, keepdim: bool) -> Tensor:
    return _reduce(input.abs() ** p, dim, keepdim) ** (1.0 / p)


def _softmax(input: Tensor, dim: int) -> Tensor:
    e = (input - input.amax(dim=dim, keepdim=True).detach()).exp()
    return e / e.sum(dim=dim, keepdim=True)


def _log_softmax(input: Tensor, dim: int) -> Tensor:
    shifted = input - input.amax(dim=dim, keepdim=True).detach()
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def _flatten(input: Tensor, start_dim: int, end_dim: int) -> Tensor:
    n = max(input.dim(), 1)
    s, e = start_dim % n, end_dim % n
    shape = list(input.shape)
    return input.reshape([*shape[:s], -1, *shape[e + 1 :]])


def _transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    order = list(range(input.dim()))
    a, b = dim0 % input.dim(), dim1 % input.dim()
    order[a], order[b] = order[b], order[a]
    return input.permute(order)


def _index(input: Tensor, dim: int, index: int) -> Tensor:
    return input[(slice(None),) * (dim % input.dim()) + (index,)]


def _stack(tensors: list[Tensor], dim: int) -> Tensor:
    d = dim % (tensors[0].dim() + 1)
    return torch.cat([t.unsqueeze(d) for t in tensors], d)


def _squeeze(input: Tensor, dim: int | None) -> Tensor:
    shape = list(input.shape)
    if dim is None:
        return input.reshape([s for s in shape if s != 1])
    d = dim % max(input.dim(), 1)
    return input.reshape(shape[:d] + shape[d + 1 :]) if input.dim() and shape[d] == 1 else input


def _unsqueeze(input: Tensor, dim: int) -> Tensor:
    d = dim % (input.dim() + 1)
    shape = list(input.shape)
    return input.reshape([*shape[:d], 1, *shape[d:]])


def _linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    out = input @ weight.t()
    return out if bias is None else out + bias


def _apply_reduction(loss: Tensor, reduction: str, denominator: Tensor | float | None = None) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.numel() if denominator is None else denominator)


def _mse_loss(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    return _apply_reduction((input - target) ** 2, reduction)


def _class_weights(weight: Tensor | None, classes: int, like: Tensor) -> Tensor:
    return torch.ones(classes, dtype=like.dtype) if weight is None else weight


def _nll_loss(input: Tensor, target: Tensor, reduction: str, ignore_index: int, weight: Tensor | None = None) -> Tensor:
    # input: N x C log-probabilities, target: N class indices.
    w = _class_weights(weight, input.shape[1], input)
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    w_i = w[safe] * keep
    picked = input.gather(1, safe.unsqueeze(1)).squeeze(1)
    loss = -w_i * picked
    return _apply_reduction(loss, reduction, w_i.sum())


def _cross_entropy(
    input: Tensor,
    target: Tensor,
    reduction: str,
    ignore_index: int,
    label_smoothing: float,
    weight: Tensor | None = None,
) -> Tensor:
    classes = input.shape[1]
    logp = _log_softmax(input, 1)
    w = _class_weights(weight, classes, input)
    if target.is_floating_point():  # class probabilities
        q = target * (1 - label_smoothing) + label_smoothing / classes
        loss = -(logp * q * w).sum(1)
        return _apply_reduction(loss, reduction, loss.shape[0])
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    w_i = w[safe] * keep
    nll = -w_i * logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    smooth = -(logp * w).sum(1) * keep
    nll_r = _apply_reduction(nll, reduction, w_i.sum())
    smooth_r = _apply_reduction(smooth, reduction, w_i.sum())
    return (1 - label_smoothing) * nll_r + label_smoothing / classes * smooth_r


def _binary_cross_entropy(input: Tensor, target: Tensor, reduction: str, weight: Tensor | None = None) -> Tensor:
    loss = -(target * input.log().clamp(min=-100) + (1 - target) * (1 - input).log().clamp(min=-100))
    if weight is not None:
        loss = loss * weight
    return _apply_reduction(loss, reduction)


def _conv1d(
    input: Tensor, weight: Tensor, stride: Any, padding: Any, dilation: Any, groups: int, bias: Tensor | None = None
) -> Tensor:
    return F.conv1d(input, weight, bias, stride, padding, dilation, groups)


def _conv2d(
    input: Tensor, weight: Tensor, stride: Any, padding: Any, dilation: Any, groups: int, bias: Tensor | None = None
) -> Tensor:
    return F.conv2d(input, weight, bias, stride, padding, dilation, groups)


def _max_pool1d(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool) -> Tensor:
    return F.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


def _max_pool2d(input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool) -> Tensor:
    return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def _avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    return F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


ORACLES: dict[str, Callable[..., Tensor]] = {
    # arithmetic
    "add": lambda input, other, alpha, inplace: input + alpha * other,
    "sub": lambda input, other, alpha, inplace: input - alpha * other,
    "mul": lambda input, other, inplace: input * other,
    "div": lambda input, other: input * other.reciprocal(),
    "neg": lambda input: 0 - input,
    "exp": lambda input: math.e**input,
    "log": lambda input: input.log(),
    "sqrt": lambda input: input**0.5,
    "abs": lambda input: input * input.sign(),
    "pow": lambda input, exponent: input**exponent,
    "matmul": lambda input, other: input @ other,
    "dot": lambda input, tensor: (input * tensor).sum(),
    # activations
    "relu": lambda input, inplace: input * (input > 0),
    "tanh": lambda input, inplace: (1 - (-2 * input).exp()) / (1 + (-2 * input).exp()),
    "sigmoid": lambda input, inplace: 1 / (1 + (-input).exp()),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    # reductions
    "sum": _reduce,
    "mean": _mean,
    "max": _max,
    "norm": _norm,
    # shape
    "reshape": lambda input, shape: input.reshape(shape),
    "view": lambda input, shape: input.reshape(shape),
    "flatten": _flatten,
    "transpose": _transpose,
    "permute": lambda input, dims: input.permute(dims),
    "index": _index,
    "cat": lambda tensors, dim: torch.cat(tensors, dim),
    "stack": _stack,
    "squeeze": _squeeze,
    "unsqueeze": _unsqueeze,
    # layers
    "linear": _linear,
    "conv1d": _conv1d,
    "conv2d": _conv2d,
    "max_pool1d": _max_pool1d,
    "max_pool2d": _max_pool2d,
    "avg_pool2d": _avg_pool2d,
    **NORM_ORACLES,  # batch_norm, layer_norm, group_norm, dropout
    # losses
    "mse_loss": _mse_loss,
    "cross_entropy": _cross_entropy,
    "nll_loss": _nll_loss,
    "binary_cross_entropy": _binary_cross_entropy,
    # autograd
    "detach": lambda input: input.detach(),
}

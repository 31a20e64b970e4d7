"""Independent oracles of the normalisation ops and dropout, from torch primitives (no F.*_norm,
no F.dropout), in training mode: the run setting the generated op tests run with."""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: list[int]) -> Tensor:
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def batch_norm_train(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch statistics over every dimension but 1 (variance biased); the running ones moved in
    place toward the batch's mean and unbiased variance."""
    dims = [d for d in range(input.dim()) if d != 1]
    shape = [1, input.shape[1]] + [1] * (input.dim() - 2)
    count = input.numel() // input.shape[1]
    mean = input.mean(dim=dims, keepdim=True)
    var = ((input - mean) ** 2).mean(dim=dims, keepdim=True)
    with torch.no_grad():
        m = momentum
        if running_mean is not None:
            running_mean.mul_(1 - m).add_(m * mean.reshape(-1))
        if running_var is not None:
            running_var.mul_(1 - m).add_(m * var.reshape(-1) * count / (count - 1))
    return _affine((input - mean) / torch.sqrt(var + eps), weight, bias, shape)


def batch_norm_eval(
    input: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    shape = [1, input.shape[1]] + [1] * (input.dim() - 2)
    y = (input - running_mean.reshape(shape)) / torch.sqrt(running_var.reshape(shape) + eps)
    return _affine(y, weight, bias, shape)


def layer_norm(
    input: Tensor,
    normalized_shape: list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    dims = list(range(input.dim() - len(normalized_shape), input.dim()))
    mean = input.mean(dim=dims, keepdim=True)
    var = ((input - mean) ** 2).mean(dim=dims, keepdim=True)
    return _affine((input - mean) / torch.sqrt(var + eps), weight, bias, list(normalized_shape))


def group_norm(
    input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    n, c = input.shape[:2]
    grouped = input.reshape(n, num_groups, -1)
    mean = grouped.mean(dim=2, keepdim=True)
    var = ((grouped - mean) ** 2).mean(dim=2, keepdim=True)
    y = ((grouped - mean) / torch.sqrt(var + eps)).reshape(input.shape)
    return _affine(y, weight, bias, [1, c] + [1] * (input.dim() - 2))


def dropout(input: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """F.dropout's CPU computation written out: a bernoulli(1 - p) keep-mask drawn from the run's
    generator (by default seeded with the run's seed 0, no source drawing before it), the kept
    elements scaled by 1/(1-p)."""
    g = torch.Generator().manual_seed(0) if generator is None else generator
    keep = torch.empty(input.shape, dtype=input.dtype).bernoulli_(1 - p, generator=g)
    return input * keep / (1 - p)


NORM_ORACLES = {
    "batch_norm": batch_norm_train,
    "layer_norm": layer_norm,
    "group_norm": group_norm,
    "dropout": dropout,
}

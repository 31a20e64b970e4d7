"""Normalisation and dropout, as in torch.nn.functional: batch_norm, layer_norm, group_norm, dropout.

Weight and bias are input ports (so a parameter node can be shared), batch_norm's running_mean and
running_var too: source nodes that need no grad, which batch_norm in training mode updates in place,
as nn.BatchNorm's buffers are (the report shows their values as the run leaves them, and their
version counter the write). batch_norm and dropout use the run (OpDef.uses_run): its train/eval
switch, and dropout its random generator.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field

from dagrad.errors import OpError, fmt_shape
from dagrad.ops.registry import Attrs, Example, Inputs, Port, PortProblem, RunContext, TensorExample, register
from dagrad.ops.spelling import Wiring, call, changed

T = TensorExample
WEIGHT = Port("weight", "Optional scale, one per channel (or per normalized element).", optional=True)
BIAS = Port("bias", "Optional shift, one per channel (or per normalized element).", optional=True)
EPS = Field(1e-5, gt=0, allow_inf_nan=False, description="Added to the variance before its square root.")


class BatchNormAttrs(Attrs):
    # F.batch_norm takes a float (nn.BatchNorm's momentum=None, a cumulative mean, counts the
    # batches in the module: a training loop's state, not one call's).
    momentum: float = Field(
        0.1, ge=0, le=1, allow_inf_nan=False, description="running = (1 - momentum) * running + momentum * batch."
    )
    eps: float = EPS


class LayerNormAttrs(Attrs):
    normalized_shape: list[int] = Field(
        min_length=1, max_length=64, description="The trailing dimensions normalised over, e.g. [C, H, W] or [D]."
    )
    eps: float = EPS


class GroupNormAttrs(Attrs):
    num_groups: int = Field(ge=1, description="Groups the channels are split into; must divide the channel count.")
    eps: float = EPS


class DropoutAttrs(Attrs):
    p: float = Field(0.5, ge=0, le=1, allow_inf_nan=False, description="Probability of zeroing an element.")


def _per_channel(inputs: Inputs, ports: tuple[str, ...], channels: int, what: str) -> list[PortProblem]:
    problems = []
    for port in ports:
        t = inputs.get(port)
        if isinstance(t, torch.Tensor) and tuple(t.shape) != (channels,):
            message = f"{port} must be [{channels}], one per {what}; got {fmt_shape(t.shape)}."
            problems.append(PortProblem(port, message))
    return problems


def _batch_norm_check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x = inputs.get("input")
    if not isinstance(x, torch.Tensor):
        return []
    if x.dim() < 2:
        return [PortProblem("input", f"input must be N×C or N×C×...; got {fmt_shape(x.shape)}.")]
    ports = ("running_mean", "running_var", "weight", "bias")
    return _per_channel(inputs, ports, x.shape[1], "channel (input's dimension 1)")


def _layer_norm_check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x = inputs.get("input")
    shape = list(attrs.normalized_shape)
    if isinstance(x, torch.Tensor) and list(x.shape[x.dim() - len(shape) :] if x.dim() >= len(shape) else []) != shape:
        message = f"normalized_shape {shape} must be the input's last dimensions; input is {fmt_shape(x.shape)}."
        return [PortProblem("input", message, attribute="normalized_shape", code="bad_attribute")]
    problems = []
    for port in ("weight", "bias"):
        t = inputs.get(port)
        if isinstance(t, torch.Tensor) and list(t.shape) != shape:
            problems.append(
                PortProblem(port, f"{port} must have the normalized_shape {shape}; got {fmt_shape(t.shape)}.")
            )
    return problems


def _group_norm_check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x = inputs.get("input")
    if not isinstance(x, torch.Tensor):
        return []
    if x.dim() < 2:
        return [PortProblem("input", f"input must be N×C or N×C×...; got {fmt_shape(x.shape)}.")]
    channels = x.shape[1]
    if channels % attrs.num_groups:
        message = f"num_groups {attrs.num_groups} must divide the input's {channels} channels."
        return [PortProblem("input", message, attribute="num_groups", code="bad_attribute")]
    return _per_channel(inputs, ("weight", "bias"), channels, "channel (input's dimension 1)")


def _normalise_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """Per element: a sum for the mean, a squared difference for the variance, a subtraction and a
    division to normalise, and a multiply-add for the weight and bias: about 8."""
    return 8.0 * out.numel()


def _dropout_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """A draw, a division of the mask and a multiplication per element."""
    return 3.0 * out.numel()


def _batch_norm(
    input: torch.Tensor,
    *,
    run: RunContext,
    running_mean: torch.Tensor | None = None,
    running_var: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    if not run.training and (running_mean is None or running_var is None):
        port = "running_mean" if running_mean is None else "running_var"
        raise OpError(
            f"eval mode normalises with the running statistics: wire a {port} (or run in training mode).", port
        )
    if run.training and input.shape[1] and input.numel() // input.shape[1] < 2:
        raise OpError("training mode needs more than one value per channel to take a variance.", "input")
    if not run.training:
        return F.batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    # PyTorch's kernel updates the buffers without counting a version (their _version stays 0), so
    # the report could not tell they were written: it updates copies, written back by copy_, one
    # counted in-place write per buffer, what the node's version shows.
    stats = [t.clone() if t is not None else None for t in (running_mean, running_var)]
    out = F.batch_norm(input, stats[0], stats[1], weight, bias, True, momentum, eps)
    with torch.no_grad():
        for buffer, updated in zip((running_mean, running_var), stats, strict=True):
            if buffer is not None and updated is not None:
                buffer.copy_(updated)
    return out


def _layer_norm(input: torch.Tensor, normalized_shape: list[int], eps: float, **affine: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(input, normalized_shape, affine.get("weight"), affine.get("bias"), eps)


def _group_norm(input: torch.Tensor, num_groups: int, eps: float, **affine: torch.Tensor) -> torch.Tensor:
    return F.group_norm(input, num_groups, affine.get("weight"), affine.get("bias"), eps)


def _dropout(input: torch.Tensor, p: float, *, run: RunContext) -> torch.Tensor:
    """F.dropout's CPU computation, input * (bernoulli(1 - p) mask / (1 - p)), its mask drawn from
    the run's generator on the CPU (as the sources are) and moved to the input's device."""
    if not run.training or p == 0:
        return input.clone()  # a value of its own: the node is not its input's tensor
    if input.device.type == "meta":
        return input * torch.empty_like(input)
    if p == 1:
        return input * torch.zeros_like(input)
    mask = torch.empty(input.shape, dtype=input.dtype).bernoulli_(1 - p, generator=run.draws())
    return input * mask.div_(1 - p).to(input.device)


def _spell_batch_norm(wiring: Wiring, attrs: BatchNormAttrs) -> str:
    """F.batch_norm takes the running statistics by position, None where not wired; training is
    spelled as the run has it, always (F.batch_norm's own default, False, is not dagrad's)."""
    stats = [wiring[p] if p in wiring.sources else "None" for p in ("running_mean", "running_var")]
    affine = [f"{p}={wiring[p]}" for p in ("weight", "bias") if p in wiring.sources]
    args = [wiring["input"], *stats, *affine, f"training={wiring.training}", *changed(attrs, ["momentum", "eps"])]
    return f"F.batch_norm({', '.join(args)})"


def _spell_dropout(wiring: Wiring, attrs: DropoutAttrs) -> str:
    """F.dropout's own default is training=True: said only in eval mode."""
    line = call("F.dropout")(wiring, attrs)
    return line if wiring.training else f"{line[:-1]}, training=False)"


CHANNEL_DOC = (
    "Optional running {0}, one per channel: a source node that needs no grad; training mode updates it in place."
)
register(
    "batch_norm",
    "layers",
    _batch_norm,
    (
        "input",
        Port("running_mean", CHANNEL_DOC.format("mean"), optional=True),
        Port("running_var", CHANNEL_DOC.format("variance"), optional=True),
        WEIGHT,
        BIAS,
    ),
    attrs=BatchNormAttrs,
    uses_run=True,
    doc="Normalise each channel (dimension 1) over the batch and the spatial dimensions, then scale by weight "
    "and shift by bias. Training mode (run.training) uses the batch's mean and biased variance and updates "
    "running_mean and running_var in place with the unbiased one; eval mode uses the running statistics.",
    torch="F.batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05)",
    spell=_spell_batch_norm,
    check=_batch_norm_check,
    cost=_normalise_cost,
    examples=[
        Example(
            {
                "input": T((4, 3, 2, 2)),
                "running_mean": T((3,), requires_grad=False),
                "running_var": T((3,), 0.5, 1.5, requires_grad=False),
                "weight": T((3,)),
                "bias": T((3,)),
            },
            {"momentum": 0.2},
        ),
        Example({"input": T((5, 4))}),
        # 64 samples per channel: float32 sums of the weight's gradient short enough to compare
        Example({"input": T((64, 300)), "weight": T((300,)), "bias": T((300,))}, large=True),
    ],
)
register(
    "layer_norm",
    "layers",
    _layer_norm,
    ("input", WEIGHT, BIAS),
    attrs=LayerNormAttrs,
    doc="Normalise over the last dimensions (normalized_shape) of each sample, then scale and shift "
    "elementwise by weight and bias of that shape. The same in training and eval mode.",
    torch="F.layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05)",
    spell=call("F.layer_norm", positional=("normalized_shape",)),
    check=_layer_norm_check,
    cost=_normalise_cost,
    examples=[
        Example({"input": T((3, 4, 5)), "weight": T((4, 5)), "bias": T((4, 5))}, {"normalized_shape": [4, 5]}),
        Example({"input": T((6, 7))}, {"normalized_shape": [7]}),
        Example(
            {"input": T((64, 300)), "weight": T((300,)), "bias": T((300,))}, {"normalized_shape": [300]}, large=True
        ),
    ],
)
register(
    "group_norm",
    "layers",
    _group_norm,
    ("input", WEIGHT, BIAS),
    attrs=GroupNormAttrs,
    doc="Split the channels (dimension 1) into num_groups groups and normalise each group of each sample, "
    "then scale and shift per channel. The same in training and eval mode.",
    torch="F.group_norm(input, num_groups, weight=None, bias=None, eps=1e-05)",
    spell=call("F.group_norm", positional=("num_groups",)),
    check=_group_norm_check,
    cost=_normalise_cost,
    examples=[
        Example({"input": T((2, 6, 3, 3)), "weight": T((6,)), "bias": T((6,))}, {"num_groups": 3}),
        Example({"input": T((3, 4, 5))}, {"num_groups": 2}),
        Example({"input": T((8, 16, 12, 12)), "weight": T((16,)), "bias": T((16,))}, {"num_groups": 4}, large=True),
    ],
)
register(
    "dropout",
    "layers",
    _dropout,
    ("input",),
    attrs=DropoutAttrs,
    uses_run=True,
    doc="Training mode (run.training): zero each element with probability p, drawn from the run's seed, and "
    "scale the others by 1/(1-p). Eval mode: the input unchanged.",
    torch="F.dropout(input, p=0.5, training=True)",
    spell=_spell_dropout,
    cost=_dropout_cost,
    examples=[
        Example({"input": T((4, 5))}, {"p": 0.3}),
        Example({"input": T((2, 3, 4))}),
        Example({"input": T((130, 131))}, {"p": 0.2}, large=True),
    ],
)

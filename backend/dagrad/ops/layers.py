"""Layers: linear, convolutions and pooling, as in torch.nn.functional.

Weights and biases are input ports, not hidden state, so a parameter node can
feed several layers (weight sharing) and its gradient is visible.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field

from dagrad.errors import fmt_shape
from dagrad.ops import checks
from dagrad.ops.layer_rules import AVG_POOL_RULE, LINEAR_RULE, conv_rule, max_pool_rule
from dagrad.ops.receptive_rules import THROUGH_ONES, pool_windows
from dagrad.ops.registry import Attrs, Example, Inputs, Port, PortProblem, TensorExample, register
from dagrad.ops.spelling import call

T = TensorExample
Size1 = int | list[int]
BIAS = Port("bias", "Optional bias, one per output feature or channel.", optional=True)


class ConvAttrs(Attrs):
    stride: Size1 = Field(1, description="Step of the kernel: an int or one per spatial dimension.")
    padding: Size1 | str = Field(0, description="Zeros added on each side; or 'same' / 'valid'.")
    dilation: Size1 = Field(1, description="Spacing between kernel taps; a kernel k covers 1+(k-1)*dilation.")
    groups: int = Field(1, ge=1, description="Split channels into groups convolved separately.")


class MaxPoolAttrs(Attrs):
    kernel_size: Size1 = Field(2, description="Window size: an int or one per spatial dimension.")
    stride: Size1 | None = Field(None, description="Step; null means kernel_size (non-overlapping blocks).")
    padding: Size1 = Field(0, description="Implicit -inf padding on each side.")
    dilation: Size1 = Field(1, description="Spacing between window elements.")
    ceil_mode: bool = Field(False, description="Round the output size up instead of down.")


class AvgPoolAttrs(Attrs):
    kernel_size: Size1 = Field(2, description="Window size: an int or (h, w).")
    stride: Size1 | None = Field(None, description="Step; null means kernel_size.")
    padding: Size1 = Field(0, description="Implicit zero padding on each side.")
    ceil_mode: bool = Field(False, description="Round the output size up instead of down.")
    count_include_pad: bool = Field(True, description="Count padded zeros in the average.")
    divisor_override: int | None = Field(None, description="Divide by this instead of the window size.")


def _bias_adds(inputs: Inputs, out: torch.Tensor) -> int:
    return out.numel() if inputs.get("bias") is not None else 0


def _conv_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """A multiply-add per output element, input channel of its group and kernel tap: the weight
    is out_channels × (in_channels / groups) × kernel."""
    w = inputs["weight"]
    assert isinstance(w, torch.Tensor)
    return 2.0 * out.numel() * math.prod(w.shape[1:]) + _bias_adds(inputs, out)


def _linear_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """A multiply-add per output element and input feature, for every row of a batch."""
    w = inputs["weight"]
    assert isinstance(w, torch.Tensor)
    return 2.0 * out.numel() * w.shape[-1] + _bias_adds(inputs, out)


def _window(attrs: Any, spatial: int) -> int:
    """Elements of one pooling window; one size given for a 2-D window stands for both sides."""
    k = attrs.kernel_size if isinstance(attrs.kernel_size, list) else [attrs.kernel_size]
    return math.prod(k) if len(k) == spatial else k[0] ** spatial


def _max_pool_cost(spatial: int) -> Any:
    """A comparison per window element of every output, wherever stride, padding, dilation and
    ceil_mode put the windows (they decide the output's size, which the meta device gives)."""

    def cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
        return float(out.numel() * _window(attrs, spatial))

    return cost


def _max_pool_backward(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """The input's gradient zero-filled, then one element added per window (at its argmax): far
    less than the forward, which the backward rule would charge twice."""
    x = inputs["input"]
    assert isinstance(x, torch.Tensor)
    return float(x.numel() + out.numel())


def _max_pool_indices(inputs: Inputs, out: torch.Tensor, attrs: Any) -> int:
    """Where each window's maximum was, saved for backward as int64."""
    return out.numel() * 8 if out.requires_grad else 0


def _avg_pool_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """An addition per window element of every output, and a division."""
    return float(out.numel() * (_window(attrs, 2) + 1))


def _avg_pool_backward(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """The input's gradient zero-filled, then each output's share added over its window."""
    x = inputs["input"]
    assert isinstance(x, torch.Tensor)
    return float(x.numel() + out.numel() * _window(attrs, 2))


def _pool_check(spatial: int) -> Any:
    layout = "N×C×L or C×L" if spatial == 1 else "N×C×H×W or C×H×W"

    def check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
        x = inputs.get("input")
        if isinstance(x, torch.Tensor) and x.dim() not in (spatial + 1, spatial + 2):
            return [PortProblem("input", f"input must be {layout}; got {fmt_shape(x.shape)}.")]
        return []

    return check


register(
    "linear",
    "layers",
    F.linear,
    ("input", "weight", BIAS),
    doc="input @ weight.T + bias: a fully connected layer, weight is [out_features, in_features].",
    torch="F.linear(input, weight, bias=None)",
    receptive=THROUGH_ONES,
    spell=call("F.linear"),
    check=checks.linear,
    cost=_linear_cost,
    rule=LINEAR_RULE,
    examples=[
        Example({"input": T((4, 10)), "weight": T((3, 10)), "bias": T((3,))}),
        Example({"input": T((10,)), "weight": T((3, 10))}),
        Example({"input": T((150, 131)), "weight": T((129, 131)), "bias": T((129,))}, large=True),
    ],
)
register(
    "conv1d",
    "layers",
    F.conv1d,
    ("input", "weight", BIAS),
    attrs=ConvAttrs,
    doc="1-D convolution (cross-correlation): input N×C×L, weight D×C×k, output N×D×L'.",
    torch="F.conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)",
    receptive=THROUGH_ONES,
    spell=call("F.conv1d"),
    check=checks.conv(1),
    cost=_conv_cost,
    rule=conv_rule(1),
    examples=[
        Example({"input": T((1, 1, 4)), "weight": T((1, 1, 2))}),
        Example(
            {"input": T((2, 2, 9)), "weight": T((4, 1, 3)), "bias": T((4,))},
            {"stride": 2, "padding": 1, "dilation": 2, "groups": 2},
        ),
        Example({"input": T((4, 8, 701)), "weight": T((12, 8, 5)), "bias": T((12,))}, {"padding": 1}, large=True),
    ],
)
register(
    "conv2d",
    "layers",
    F.conv2d,
    ("input", "weight", BIAS),
    attrs=ConvAttrs,
    doc="2-D convolution: input N×C×H×W, weight D×C×h×w, output N×D×H'×W'.",
    torch="F.conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)",
    receptive=THROUGH_ONES,
    spell=call("F.conv2d"),
    check=checks.conv(2),
    cost=_conv_cost,
    rule=conv_rule(2),
    examples=[
        Example({"input": T((2, 3, 6, 7)), "weight": T((4, 3, 2, 3)), "bias": T((4,))}),
        Example(
            {"input": T((1, 2, 9, 9)), "weight": T((2, 1, 3, 3))},
            {"stride": [2, 1], "padding": 1, "dilation": 2, "groups": 2},
        ),
        Example({"input": T((2, 3, 70, 91)), "weight": T((8, 3, 3, 3)), "bias": T((8,))}, {"padding": 1}, large=True),
    ],
)
register(
    "max_pool1d",
    "layers",
    F.max_pool1d,
    ("input",),
    attrs=MaxPoolAttrs,
    doc="Maximum over windows along the last dimension.",
    torch="F.max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)",
    receptive=pool_windows(1),
    spell=call("F.max_pool1d", positional=("kernel_size",)),
    check=_pool_check(1),
    cost=_max_pool_cost(1),
    rule=max_pool_rule(1),
    backward_cost=_max_pool_backward,
    extra_bytes=_max_pool_indices,
    examples=[
        Example({"input": T((2, 3, 8))}, {"kernel_size": 2}),
        Example({"input": T((1, 2, 9))}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        # overlapping windows: an input element can take the gradient of two outputs
        Example({"input": T((4, 8, 1101))}, {"kernel_size": 3, "stride": 2, "padding": 1}, large=True),
    ],
)
register(
    "max_pool2d",
    "layers",
    F.max_pool2d,
    ("input",),
    attrs=MaxPoolAttrs,
    doc="Maximum over h×w windows of each channel; by default over non-overlapping blocks.",
    torch="F.max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)",
    receptive=pool_windows(2),
    spell=call("F.max_pool2d", positional=("kernel_size",)),
    check=_pool_check(2),
    cost=_max_pool_cost(2),
    rule=max_pool_rule(2),
    backward_cost=_max_pool_backward,
    extra_bytes=_max_pool_indices,
    examples=[
        Example({"input": T((1, 2, 2, 6))}, {"kernel_size": [1, 2]}),
        Example({"input": T((2, 2, 7, 7))}, {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}),
        # disjoint windows: each output gradient goes to one input element, the rest get zero
        Example({"input": T((2, 4, 140, 131))}, {"kernel_size": 2}, large=True),
    ],
)
register(
    "avg_pool2d",
    "layers",
    F.avg_pool2d,
    ("input",),
    attrs=AvgPoolAttrs,
    doc="Average over h×w windows of each channel.",
    torch="F.avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)",
    receptive=THROUGH_ONES,
    spell=call("F.avg_pool2d", positional=("kernel_size",)),
    check=_pool_check(2),
    cost=_avg_pool_cost,
    rule=AVG_POOL_RULE,
    backward_cost=_avg_pool_backward,
    examples=[
        Example({"input": T((2, 2, 4, 6))}, {"kernel_size": 2}),
        Example({"input": T((1, 2, 5, 5))}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        Example({"input": T((2, 3, 120, 131))}, {"kernel_size": 2}, large=True),
    ],
)

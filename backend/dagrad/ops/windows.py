"""Sliding windows (convolution and pooling), one spatial dimension at a time.

`window_facts` writes the output-size arithmetic with the numbers filled in, what
POST /api/validate returns per conv/pool node and the editor shows on its edge:

    out = floor((in + 2·padding − dilation·(k − 1) − 1) / stride) + 1
    effective kernel = 1 + (k − 1)·dilation

(ceil_mode rounds up instead, and PyTorch then drops a last window that would start in the
right padding). The chapter's dilation example: k = 3, d = 4 → 9, so 20×30 → 12×22.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def per_dim(value: Any, spatial: int) -> tuple[int, ...]:
    """An int or a list of them, one per spatial dimension (one given for all)."""
    values = (int(value),) * spatial if isinstance(value, int) else tuple(int(x) for x in value)
    return values if len(values) == spatial else values * spatial


@dataclass(frozen=True)
class WindowDim:
    """One spatial dimension of a conv or pool: its sizes and what the output size comes from."""

    size_in: int
    padding: int  # on each side; 'same' gives the left one (the odd one goes right)
    dilation: int
    kernel: int
    effective: int  # 1 + (kernel - 1) * dilation
    stride: int
    size_out: int
    ceil_mode: bool

    @property
    def formula(self) -> str:
        """The arithmetic with this dimension's numbers, ending in its output size."""
        rounding = "ceil" if self.ceil_mode else "floor"
        inner = f"({self.size_in} + 2·{self.padding} − {self.dilation}·({self.kernel} − 1) − 1) / {self.stride}"
        return f"{rounding}({inner}) + 1 = {self.size_out}"


def out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling/conv output size along one dimension."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:  # the last window would start in the right padding
        out -= 1
    return out


def window_dims(
    size_in: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...] | str,
    dilation: tuple[int, ...],
    ceil_mode: bool,
    size_out: tuple[int, ...],
) -> list[WindowDim]:
    """Every spatial dimension's facts; `size_out` is what the meta device gave (the truth)."""
    dims = []
    for i, n in enumerate(size_in):
        if padding == "valid":
            p = 0
        elif padding == "same":
            p = dilation[i] * (kernel[i] - 1) // 2
        else:
            assert not isinstance(padding, str)
            p = padding[i]
        effective = 1 + (kernel[i] - 1) * dilation[i]
        dims.append(WindowDim(n, p, dilation[i], kernel[i], effective, stride[i], size_out[i], ceil_mode))
    return dims


SPATIAL = {"conv1d": 1, "conv2d": 2, "max_pool1d": 1, "max_pool2d": 2, "avg_pool2d": 2}


def windows_of(
    op: str, attrs: Any, input_shape: tuple[int, ...], weight_shape: tuple[int, ...] | None, out_shape: tuple[int, ...]
) -> list[WindowDim] | None:
    """A conv or pool node's window facts per spatial dimension; None for any other op."""
    spatial = SPATIAL.get(op)
    if spatial is None or len(input_shape) < spatial or len(out_shape) < spatial:
        return None
    if op.startswith("conv"):
        if weight_shape is None:
            return None
        kernel = tuple(weight_shape[2:])
        stride, dilation = per_dim(attrs.stride, spatial), per_dim(attrs.dilation, spatial)
        padding: tuple[int, ...] | str = (
            attrs.padding if isinstance(attrs.padding, str) else per_dim(attrs.padding, spatial)
        )
        ceil_mode = False
    else:
        kernel = per_dim(attrs.kernel_size, spatial)
        stride = per_dim(attrs.stride, spatial) if attrs.stride is not None else kernel
        padding = per_dim(attrs.padding, spatial)
        dilation = per_dim(getattr(attrs, "dilation", 1), spatial)
        ceil_mode = bool(attrs.ceil_mode)
    return window_dims(
        tuple(input_shape[-spatial:]), kernel, stride, padding, dilation, ceil_mode, tuple(out_shape[-spatial:])
    )

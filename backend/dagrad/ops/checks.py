"""Shape checks that explain a mistake better than PyTorch's meta kernels do.

Each returns a list of `PortProblem`s naming the port at fault, the shapes
involved and what would fix it. PyTorch still has the last word: whatever
these checks let through is run on the meta device.
"""

from __future__ import annotations

from typing import Any

import torch

from dagrad.errors import fmt_shape
from dagrad.ops.registry import Inputs, PortProblem


def _t(inputs: Inputs, port: str) -> torch.Tensor | None:
    value = inputs.get(port)
    return value if isinstance(value, torch.Tensor) else None


def broadcastable(a: str, b: str) -> Any:
    """Elementwise ops: the two ports' shapes must broadcast."""

    def check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
        x, y = _t(inputs, a), _t(inputs, b)
        if x is None or y is None:
            return []
        for i in range(1, min(x.dim(), y.dim()) + 1):
            dx, dy = x.shape[-i], y.shape[-i]
            if dx != dy and dx != 1 and dy != 1:
                return [
                    PortProblem(
                        b,
                        f"{a} has shape {fmt_shape(x.shape)} and {b} has shape {fmt_shape(y.shape)}: "
                        f"they do not broadcast (dimension {-i}: {dx} vs {dy}). Shapes broadcast when, "
                        "from the last dimension backwards, each pair of sizes is equal or one of them is 1.",
                    )
                ]
        return []

    return check


def matmul(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x, y = _t(inputs, "input"), _t(inputs, "other")
    if x is None or y is None:
        return []
    if x.dim() == 0 or y.dim() == 0:
        bad = "input" if x.dim() == 0 else "other"
        return [PortProblem(bad, f"matmul needs tensors of at least 1 dimension; {bad} is a scalar. Use mul.")]
    k_x = x.shape[-1]
    k_y = y.shape[0] if y.dim() == 1 else y.shape[-2]
    if k_x != k_y:
        which = "first" if y.dim() == 1 else "second-to-last"
        return [
            PortProblem(
                "other",
                f"input {fmt_shape(x.shape)} @ other {fmt_shape(y.shape)}: input's last dimension ({k_x}) "
                f"must equal other's {which} dimension ({k_y}). Transpose one of them or change a shape.",
            )
        ]
    return []


def dot(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x, y = _t(inputs, "input"), _t(inputs, "tensor")
    if x is None or y is None:
        return []
    problems = [
        PortProblem(port, f"dot takes 1-D tensors; {port} has shape {fmt_shape(t.shape)}. Flatten it or use matmul.")
        for port, t in (("input", x), ("tensor", y))
        if t.dim() != 1
    ]
    if not problems and x.shape[0] != y.shape[0]:
        problems.append(
            PortProblem(
                "tensor", f"dot needs vectors of the same length: input has {x.shape[0]}, tensor has {y.shape[0]}."
            )
        )
    return problems


def linear(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x, w, b = _t(inputs, "input"), _t(inputs, "weight"), _t(inputs, "bias")
    problems: list[PortProblem] = []
    if x is None or w is None:
        return problems
    if w.dim() not in (1, 2):
        return [PortProblem("weight", f"weight must be [out_features, in_features]; got {fmt_shape(w.shape)}.")]
    if x.dim() == 0:
        return [PortProblem("input", "input must have at least 1 dimension (its last is in_features).")]
    if x.shape[-1] != w.shape[-1]:
        problems.append(
            PortProblem(
                "weight",
                f"weight {fmt_shape(w.shape)} expects in_features={w.shape[-1]}, but input {fmt_shape(x.shape)} "
                f"has {x.shape[-1]} features in its last dimension. Make weight [{w.shape[0] if w.dim() == 2 else 1}, "
                f"{x.shape[-1]}] or reshape the input.",
            )
        )
    if b is not None and w.dim() == 1 and b.dim() != 0:  # the meta kernel broadcasts it; the CPU's refuses
        problems.append(
            PortProblem(
                "bias",
                f"with a 1-D weight {fmt_shape(w.shape)}, linear gives a scalar, so bias must be a scalar (shape []); "
                f"got {fmt_shape(b.shape)}. Or make weight [out_features, {w.shape[0]}].",
            )
        )
    if b is not None and w.dim() == 2 and tuple(b.shape) not in ((w.shape[0],), ()):
        problems.append(
            PortProblem(
                "bias",
                f"bias must have shape [{w.shape[0]}] (out_features of weight {fmt_shape(w.shape)}); got {fmt_shape(b.shape)}.",
            )
        )
    return problems


def conv(spatial: int) -> Any:
    """conv1d/conv2d: ranks, channel counts and bias size, named."""

    def check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
        x, w, b = _t(inputs, "input"), _t(inputs, "weight"), _t(inputs, "bias")
        if x is None or w is None:
            return []
        layout = "N×C×L" if spatial == 1 else "N×C×H×W"
        if x.dim() not in (spatial + 1, spatial + 2):
            return [
                PortProblem(
                    "input",
                    f"input must be {layout} ({spatial + 2}-D) or unbatched ({spatial + 1}-D); got {fmt_shape(x.shape)}.",
                )
            ]
        if w.dim() != spatial + 2:
            wl = "out×in×k" if spatial == 1 else "out_channels×in_channels×kH×kW"
            return [PortProblem("weight", f"weight must be {wl} ({spatial + 2}-D); got {fmt_shape(w.shape)}.")]
        groups = attrs.groups
        channels = x.shape[-spatial - 1]
        expected = w.shape[1] * groups
        problems: list[PortProblem] = []
        if channels != expected:
            per_group = f" ({w.shape[1]} per group × groups={groups})" if groups != 1 else ""
            problems.append(
                PortProblem(
                    "weight",
                    f"weight {fmt_shape(w.shape)} expects {expected} input channels{per_group}, but input "
                    f"{fmt_shape(x.shape)} has {channels} channels (dimension {x.dim() - spatial - 1}). "
                    f"Make weight's second dimension {channels // groups if channels % groups == 0 else channels} "
                    "or change the input's channels.",
                )
            )
        if w.shape[0] % groups != 0:
            problems.append(
                PortProblem(
                    None,
                    f"out_channels ({w.shape[0]}) must be divisible by groups ({groups}).",
                    attribute="groups",
                    code="bad_attribute",
                )
            )
        if b is not None and tuple(b.shape) != (w.shape[0],):
            problems.append(
                PortProblem(
                    "bias",
                    f"bias must have shape [{w.shape[0]}] (one per output channel of weight {fmt_shape(w.shape)}); got {fmt_shape(b.shape)}.",
                )
            )
        return problems

    return check


def same_shape(a: str, b: str, why: str) -> Any:
    def check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
        x, y = _t(inputs, a), _t(inputs, b)
        if x is None or y is None or x.shape == y.shape:
            return []
        return [PortProblem(b, f"{b} has shape {fmt_shape(y.shape)} but {a} has shape {fmt_shape(x.shape)}; {why}")]

    return check


def dim_in_range(port: str, *attr_names: str, extra: int = 0) -> Any:
    """Attributes naming dimensions must exist on the input (negative dims count from the end)."""

    def check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
        x = _t(inputs, port)
        if x is None:
            return []
        rank = max(x.dim(), 1) + extra
        problems = []
        for name in attr_names:
            value = getattr(attrs, name)
            dims = value if isinstance(value, list) else [value]
            for d in dims:
                if d is not None and not -rank <= d < rank:
                    problems.append(
                        PortProblem(
                            None,
                            f"{name}={d} is out of range for {port} of shape {fmt_shape(x.shape)}: "
                            f"use a value from {-rank} to {rank - 1}.",
                            attribute=name,
                            code="bad_attribute",
                        )
                    )
        return problems

    return check


def all_of(*checks: Any) -> Any:
    def check(inputs: Inputs, attrs: Any) -> list[PortProblem]:
        return [p for c in checks for p in c(inputs, attrs)]

    return check

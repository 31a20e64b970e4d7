"""What the ops' local backward rules share (BackwardRule.code): undoing a broadcast or a
reduction, reading a port's tensor. Plain tensor arithmetic on values without a graph; nothing
here calls autograd."""

from __future__ import annotations

import torch

from dagrad.ops.registry import Inputs

# The symbols of the formulas, as a page writes them (BackwardRule: each names a tensor).
G = r"\mathrm{grad\_out}"
OUT = r"\mathrm{out}"


def sym(port: str) -> str:
    """A port's tensor in a formula: \\mathrm{input}, \\mathrm{grad\\_out}..."""
    return r"\mathrm{" + port.replace("_", r"\_") + "}"


UNBROADCAST = (
    "unbroadcast sums grad_out over the dimensions that broadcasting added or stretched, back to the port's own shape."
)


def port(inputs: Inputs, name: str) -> torch.Tensor:
    t = inputs[name]
    assert isinstance(t, torch.Tensor), f"port {name} holds no tensor"
    return t


def optional(inputs: Inputs, name: str) -> torch.Tensor | None:
    t = inputs.get(name)
    assert t is None or isinstance(t, torch.Tensor)
    return t


def unbroadcast(g: torch.Tensor, shape: torch.Size | tuple[int, ...]) -> torch.Tensor:
    """g summed back to `shape`, undoing broadcasting: over the leading dimensions it added, and
    over each dimension where `shape` has size 1 and g does not."""
    extra = g.dim() - len(shape)
    if extra > 0:
        g = g.sum(dim=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(dim=stretched, keepdim=True)
    return g.reshape(shape)


def dims_of(dim: int | list[int] | None, ndim: int) -> list[int]:
    """The dimensions a reduction reduced, each in [0, ndim): all of them for None."""
    if dim is None:
        return list(range(ndim))
    n = max(ndim, 1)
    return sorted({d % n for d in ([dim] if isinstance(dim, int) else dim)})


def unreduce(g: torch.Tensor, shape: torch.Size, dim: int | list[int] | None, keepdim: bool) -> torch.Tensor:
    """g, the gradient of a reduction over `dim`, given back its reduced dimensions (size 1 where
    the reduction dropped them), ready to broadcast against the input of `shape`."""
    if dim is not None and not keepdim:
        for d in dims_of(dim, len(shape)):
            g = g.unsqueeze(d) if len(shape) else g
    return g

"""The registry's op examples as tensors, for the generated op tests (test_ops.py, test_op_stats.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from dagrad.ops import REGISTRY
from dagrad.ops.registry import Attrs, Example, OpDef, TensorExample
from graph_builder import decode

DTYPE = torch.float64
OPS = [op for op in REGISTRY.values() if not op.source]


def make_tensor(spec: TensorExample, generator: torch.Generator) -> torch.Tensor:
    """A tensor as the example describes it: int64 in [low, high), else float64 in [low, high]."""
    if spec.dtype == "int64":
        return torch.randint(int(spec.low), int(spec.high), spec.shape, generator=generator)
    u = torch.rand(spec.shape, dtype=DTYPE, generator=generator)
    return spec.low + (spec.high - spec.low) * u


def example_tensors(example: Example, seed: int = 0) -> dict[str, Any]:
    """Port -> tensor (or list of tensors for list ports), leaves requiring grad as declared."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, Any] = {}
    for port, spec in example.inputs.items():
        if isinstance(spec, TensorExample):
            out[port] = make_tensor(spec, g).requires_grad_(spec.requires_grad and spec.dtype == "float")
        else:
            specs: Sequence[TensorExample] = spec
            out[port] = [make_tensor(s, g).requires_grad_(s.requires_grad and s.dtype == "float") for s in specs]
    return out


def leaves(tensors: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Source node id -> tensor: `port` or `port_i` for list ports."""
    flat: dict[str, torch.Tensor] = {}
    for port, value in tensors.items():
        if isinstance(value, list):
            for i, t in enumerate(value):
                flat[f"{port}_{i}"] = t
        else:
            flat[port] = value
    return flat


def full_attrs(op: OpDef, example: Example) -> dict[str, Any]:
    return op.attrs.model_validate(dict(example.attrs)).model_dump()


def validated_attrs(op: OpDef, example: Example) -> Attrs:
    return op.attrs.model_validate(dict(example.attrs))


def fresh(tensors: dict[str, Any]) -> dict[str, Any]:
    """Copies of the leaves, so that each autograd run has its own .grad."""

    def copy(t: torch.Tensor) -> torch.Tensor:
        return t.detach().clone().requires_grad_(t.requires_grad)

    return {k: [copy(t) for t in v] if isinstance(v, list) else copy(v) for k, v in tensors.items()}


def assert_grad(actual: Any, expected: torch.Tensor | None, what: str) -> None:
    if expected is None:
        assert actual is None, f"{what}: dagrad gives a gradient where torch gives none"
    else:
        assert actual is not None, f"{what}: dagrad gives no gradient where torch gives one"
        torch.testing.assert_close(decode(actual), expected, msg=lambda m: f"{what}: {m}")

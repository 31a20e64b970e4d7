"""Whether the run's device has a kernel for an op on its inputs' dtypes.

Shape inference runs PyTorch's meta kernels, mostly Python references that take dtypes the CPU's
kernels refuse: abs and relu of bool, softmax of int64, conv2d of a float32 input by a float64
weight, linear with an int64 bias... A graph validated that way would fail when it runs. So each
op is also tried on real tensors of ones on the run's device, with no gradient: of the node's
own shapes and attributes when its inputs are small (exact), else of the op's registry example
with the same ports and ranks, cast to the node's dtypes (what a kernel refuses is a dtype, not a
size). It is tried only when the shape memo does not know the node: the memo remembers a result
once its kernel took it.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dagrad.errors import OpError, dtype_name
from dagrad.ops.registry import Attrs, Example, OpDef, TensorExample

# Inputs up to this many elements in all are tried as they are; larger ones on the op's example.
EXACT_ELEMENTS = 4096

# port -> ((shape, dtype) of each tensor), a list port's several
_Signature = tuple[tuple[str, tuple[tuple[tuple[int, ...], torch.dtype], ...]], ...]


def kernel_problem(op: OpDef, inputs: dict[str, Any], attrs: Attrs, device: torch.device) -> str | None:
    """What the device's kernel says against these inputs (meta tensors), or None when it runs them."""
    if op.needs_autograd_graph:  # its meta call already ran autograd, as the run will
        return None
    signature = tuple(
        (port, tuple((tuple(t.shape), t.dtype) for t in (value if isinstance(value, list) else [value])))
        for port, value in sorted(inputs.items())
    )
    exact = sum(math.prod(shape) for _, tensors in signature for shape, _ in tensors) <= EXACT_ELEMENTS
    if exact:
        text = _try(op, attrs, signature, device.type)
    else:  # on the op's example: only the ranks and dtypes of the signature matter
        ranked = tuple((port, tuple(((0,) * len(s), d) for s, d in tensors)) for port, tensors in signature)
        text = _try(op, None, ranked, device.type)
    if text is None:
        return None
    kinds = ", ".join(f"{port} {'/'.join(dtype_name(d) for _, d in tensors)}" for port, tensors in signature)
    return (
        f"{op.name} has no kernel for these inputs on {device.type} ({kinds}): {text}. "
        "Give its inputs one floating point dtype, float32 or float64 (a source's dtype)."
    )


def _example_index(op: OpDef, signature: _Signature) -> int | None:
    """The first small example with the node's ports and ranks (a port it leaves out must be optional)."""
    wired = {port: [len(s) for s, _ in tensors] for port, tensors in signature}
    for i, example in enumerate(op.examples):
        if example.large or not set(wired) <= set(example.inputs):
            continue
        if any(not p.optional for p in op.ports if p.name in example.inputs and p.name not in wired):
            continue
        ranks = {port: [len(t.shape) for t in _specs(example, port)] for port in wired}
        if all(len(set(ranks[p])) == 1 and set(ranks[p]) == set(wired[p]) for p in wired):
            return i
    return None


def _specs(example: Example, port: str) -> list[TensorExample]:
    spec = example.inputs[port]
    return [spec] if isinstance(spec, TensorExample) else list(spec)


def _try(op: OpDef, attrs: Attrs | None, signature: _Signature, device: str) -> str | None:
    """The first line of what the kernel raised, or None: on the node's own shapes and attributes,
    or (attrs None) on the op's example of the signature's ports and ranks, if it has one."""
    example = None if attrs is not None else _example_index(op, signature)
    if attrs is None and example is None:
        return None  # nothing to try it on: the run will tell
    source = None if example is None else op.examples[example]
    args: dict[str, Any] = {}
    for port, tensors in signature:
        shapes = [s for s, _ in tensors] if source is None else [_specs(source, port)[0].shape] * len(tensors)
        made = [torch.ones(s, dtype=d, device=device) for s, (_, d) in zip(shapes, tensors, strict=True)]
        wired = op.port(port)
        args[port] = made if wired is not None and wired.variadic else made[0]
    model = attrs if attrs is not None else op.attrs.model_validate(dict(source.attrs if source else {}))
    try:
        with torch.no_grad():
            op.call(args, model)
    except OpError:  # what the values (ones) are is not the point
        return None
    except Exception as exc:
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    return None

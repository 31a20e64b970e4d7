"""A step of a compile for graphs with an in-place op: backward rehearsed on the meta device.

Autograd checks when backward runs that no tensor it saved for it was overwritten since, which
only an in-place op can do; a compile that stopped at the forward pass would accept such a graph
and its run would fail. So a graph with an in-place op and a run.output is inferred without the
shape memo (whose results carry no autograd graph), and backward is run on its meta tensors as
the interpreter runs it on real ones: no memory, PyTorch's own verdict.
"""

from __future__ import annotations

import torch

from dagrad.compiler.found import Found
from dagrad.errors import overwritten
from dagrad.graph_format import Run
from dagrad.ops.registry import Attrs


def mutates(attrs: Attrs) -> bool:
    """Whether the op overwrites its input (relu's inplace)."""
    return bool(getattr(attrs, "inplace", False))


def rehearse_backward(run: Run, values: dict[str, torch.Tensor], creators: dict[str, list[str]], found: Found) -> None:
    """Run backward on the meta values; a failure is reported on the node whose saved value was
    overwritten when PyTorch names it (as the interpreter blames it), else on run.output."""
    assert run.output is not None
    out = values[run.output]
    grad = None if run.grad_output is None else torch.ones_like(out)
    targets = None if run.wrt is None else [values[w] for w in run.wrt if values[w].requires_grad]
    passes = run.backward_passes
    try:
        for i in range(passes):
            torch.autograd.backward(out, grad, retain_graph=i < passes - 1, inputs=targets)
    except RuntimeError as exc:
        message = str(exc).strip().splitlines()[0]
        suspects = overwritten(message, creators)
        node = suspects[0] if suspects else run.output
        found.error(
            node,
            "runtime",
            f"backward would fail: {message} An op with inplace on overwrote this node's value, which "
            "backward needs: turn that op's inplace off.",
        )

"""A step of a compile for graphs whose backward may fail: rehearsed on the meta device.

Autograd checks when backward runs that no tensor it saved for it was overwritten since, which
only an in-place op can do, and that an earlier backward has not freed it, which only a run of
several passes with retain_graph off can do; a compile that stopped at the forward pass would
accept such a graph and its run would fail. So such a graph is inferred without the shape memo
(whose results carry no autograd graph), and backward is run on its meta tensors as the
interpreter runs it on real ones: no memory, PyTorch's own verdict, located as the interpreter
locates it.
"""

from __future__ import annotations

import torch

from dagrad.autograd import Makers, freed_errors, frees_graph
from dagrad.compiler.found import Found
from dagrad.graph_format import Run
from dagrad.ops.registry import Attrs


def mutates(attrs: Attrs) -> bool:
    """Whether the op overwrites its input (relu's inplace)."""
    return bool(getattr(attrs, "inplace", False))


def rehearse_backward(run: Run, values: dict[str, torch.Tensor], makers: Makers, found: Found) -> None:
    """Run backward on the meta values; a failure is reported as the interpreter reports it."""
    assert run.output is not None
    out = values[run.output]
    grad = None if run.grad_output is None else torch.ones_like(out)
    targets = None if run.wrt is None else [values[w] for w in run.wrt if values[w].requires_grad]
    for i in range(run.backward_passes):
        try:
            torch.autograd.backward(out, grad, retain_graph=run.retains(i), inputs=targets)
        except RuntimeError as exc:
            message = str(exc).strip().splitlines()[0]
            if frees_graph(message):
                for e in freed_errors(makers, out.grad_fn, i, run.output):
                    found.error(e.node, e.code, e.message)
                return
            suspects = makers.overwritten(message)
            node = suspects[0] if suspects else run.output
            found.error(
                node,
                "runtime",
                f"backward would fail: {message} An op with inplace on overwrote this node's value, which "
                "backward needs: turn that op's inplace off.",
            )
            return

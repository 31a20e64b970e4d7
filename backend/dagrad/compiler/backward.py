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

from dagrad.autograd import Makers, freed_errors, frees_graph, overwrite_errors, overwrites
from dagrad.compiler.found import Found
from dagrad.errors import GraphError
from dagrad.graph_format import Run


def rehearse_backward(
    run: Run, values: dict[str, torch.Tensor], makers: Makers, inplace: dict[str, list[str]], found: Found
) -> bool:
    """Run backward on the meta values; a failure is reported as the interpreter reports it
    (`inplace`: node -> the in-place nodes that write into its value, autograd.writers), and
    True returned."""
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
                errors = freed_errors(makers, out.grad_fn, i, run.output)
            elif overwrites(message):
                errors = overwrite_errors(makers, out.grad_fn, message, inplace, run.output)
            else:
                errors = [GraphError(node=run.output, code="runtime", message=f"backward would fail: {message}")]
            for e in errors:
                found.add(e)
            return True
    return False

"""Autograd ops: detach, and grad (torch.autograd.grad as a node)."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from dagrad.errors import OpError, fmt_shape
from dagrad.ops.receptive_rules import POINTWISE
from dagrad.ops.registry import Attrs, Example, Inputs, Port, PortProblem, TensorExample, register
from dagrad.ops.spelling import Wiring, method

T = TensorExample


class GradAttrs(Attrs):
    create_graph: bool = Field(
        False, description="Record the derivative's own graph, so this node can be differentiated again."
    )
    allow_unused: bool = Field(
        False, description="If inputs does not influence outputs, give zeros instead of an error."
    )


def grad(
    outputs: torch.Tensor,
    inputs: torch.Tensor,
    grad_outputs: torch.Tensor | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> torch.Tensor:
    # retain_graph is always on: the run's own backward may still need the graph.
    try:
        (g,) = torch.autograd.grad(
            outputs,
            inputs,
            grad_outputs=grad_outputs,
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=allow_unused,
            materialize_grads=allow_unused,
        )
    except RuntimeError as exc:
        if "not have been used in the graph" in str(exc):
            raise OpError(
                "outputs does not depend on inputs, so there is no derivative to take. "
                "Wire inputs to a node that outputs is computed from, or set allow_unused to get zeros.",
                port="inputs",
                code="run",
            ) from exc
        raise
    return g


def _spell_grad(wiring: Wiring, attrs: GradAttrs) -> str:
    """The call `grad` makes: retain_graph always (the run's own backward may need the graph),
    create_graph and allow_unused as set (allow_unused gives zeros: materialize_grads)."""
    args = [*wiring.required(), *wiring.optional(), "retain_graph=True"]
    if attrs.create_graph:
        args.append("create_graph=True")
    if attrs.allow_unused:
        args += ["allow_unused=True", "materialize_grads=True"]
    return f"torch.autograd.grad({', '.join(args)})[0]"


def _check_grad(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    out, wrt, go = inputs.get("outputs"), inputs.get("inputs"), inputs.get("grad_outputs")
    problems: list[PortProblem] = []
    if isinstance(out, torch.Tensor) and not out.requires_grad:
        problems.append(
            PortProblem(
                "outputs",
                # The usual reason, when the graph does reach back to a parameter, is a first
                # derivative taken without create_graph: its result is not tracked.
                "outputs does not require grad: autograd tracked nothing it is computed from, so it has no "
                "derivative. If outputs is computed from another grad node's result, turn on that grad node's "
                "create_graph, so that its derivative is recorded and can be differentiated again; a detach on the "
                "way stops the tracking too; else wire outputs to a node computed from inputs.",
                code="dtype",
            )
        )
    if isinstance(wrt, torch.Tensor) and not wrt.requires_grad:
        problems.append(
            PortProblem(
                "inputs",
                "inputs does not require grad; set requires_grad on it (or on what it is computed from).",
                code="dtype",
            )
        )
    if isinstance(out, torch.Tensor) and go is None and out.numel() != 1:
        problems.append(
            PortProblem(
                "grad_outputs",
                f"outputs has shape {fmt_shape(out.shape)}, not a scalar: wire grad_outputs (e.g. a constant of ones "
                "of that shape) or reduce outputs with sum first.",
            )
        )
    if isinstance(out, torch.Tensor) and isinstance(go, torch.Tensor) and go.shape != out.shape:
        problems.append(
            PortProblem(
                "grad_outputs",
                f"grad_outputs must have the shape of outputs {fmt_shape(out.shape)}; got {fmt_shape(go.shape)}.",
            )
        )
    return problems


register(
    "detach",
    "autograd",
    torch.detach,
    ("input",),
    doc=(
        "The same values, cut from the graph: no gradient flows back through it. "
        "Use it to stop gradients, as in (a.detach() - b) ** 2."
    ),
    torch="input.detach()",
    receptive=POINTWISE,
    spell=method("detach"),
    differentiable=False,
    examples=[Example({"input": T((3,))}), Example({"input": T((201, 301))}, large=True)],
)
register(
    "grad",
    "autograd",
    grad,
    (
        Port("outputs", "The tensor to differentiate.", exact=True),
        Port("inputs", "The tensor to differentiate it with respect to.", exact=True),
        Port("grad_outputs", "Weights of the outputs' elements, when outputs is not a scalar.", optional=True),
    ),
    attrs=GradAttrs,
    doc=(
        "d outputs / d inputs, as torch.autograd.grad(outputs, inputs) computes it, with the shape of inputs. "
        "With create_graph the result can be differentiated again (second derivatives)."
    ),
    torch="torch.autograd.grad(outputs, inputs, grad_outputs=None, retain_graph=True, create_graph=False)[0]",
    spell=_spell_grad,
    check=_check_grad,
    # Its own cost is the default (elements read and written); the compiler adds the backward it
    # runs, through every node between inputs and outputs (compiler/totals.py).
    differentiates=("outputs", "inputs"),
    # outputs must be computed from inputs (autograd matches them by identity), which a literal
    # source is not: the tests wire outputs = inputs ** 3 (tests/test_op_stats.py, COMPUTED_PORTS).
    examples=[
        Example({"inputs": T((150, 131)), "grad_outputs": T((150, 131))}, {"create_graph": True}, large=True),
    ],
)

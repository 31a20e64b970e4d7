"""An exercise's checks against a run: each checked node's value or gradient compared with the
expected tensor the document carries (graph_meta.Check), shape first, then every element within
atol + rtol * |expected| (torch.isclose's rule). The REST API's evaluate and `dagrad eval` both
report them; a check that cannot be made (no such node, no gradient) fails, saying why."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from dagrad.errors import fmt_shape
from dagrad.graph_meta import DEFAULT_ATOL, DEFAULT_RTOL, Check
from dagrad.interpreter import RunResult
from dagrad.plan import Plan
from dagrad.results import CheckResult

WHAT = {"value": "value", "grad": "gradient"}


def check_results(plan: Plan, result: RunResult, grad_notes: Mapping[str, str | None]) -> list[CheckResult] | None:
    """Every check of the plan, in the document's order; None when it has none. `grad_notes`:
    why a node has no gradient, as the answer says it (report/response.py)."""
    if not plan.checks:
        return None
    return [_check(c, result, grad_notes) for c in plan.checks]


def _check(check: Check, result: RunResult, grad_notes: Mapping[str, str | None]) -> CheckResult:
    rtol = DEFAULT_RTOL if check.rtol is None else check.rtol
    atol = DEFAULT_ATOL if check.atol is None else check.atol
    what = WHAT[check.of]

    def failed(message: str) -> CheckResult:
        return CheckResult(
            node=check.node,
            of=check.of,
            passed=False,
            max_abs_error=None,
            mismatched=None,
            rtol=rtol,
            atol=atol,
            message=message,
        )

    if check.node not in result.values:
        return failed(
            f"the graph has no node {check.node!r}, whose {what} the exercise checks: build it, and give it that name."
        )
    tensor = result.values[check.node] if check.of == "value" else result.grads.get(check.node)
    if tensor is None:
        note = grad_notes.get(check.node) or "backward gave it none."
        return failed(f"{check.node} has no gradient to check: {note}")
    if list(tensor.shape) != check.shape:
        return failed(
            f"{check.node}'s {what} has shape {fmt_shape(list(tensor.shape))} where the exercise expects "
            f"{fmt_shape(check.shape)}."
        )
    actual = tensor.detach().to(device="cpu", dtype=torch.float64)
    expected = torch.tensor(check.values, dtype=torch.float64).reshape(check.shape)
    diff = (actual - expected).abs()
    outside = ~(diff <= atol + rtol * expected.abs())  # NaN in the run's tensor is outside too
    mismatched = int(outside.sum())
    largest = float(diff.max()) if diff.numel() else 0.0
    finite = bool(torch.isfinite(actual).all())
    tolerance = f"{atol:g} + {rtol:g}·|expected|"
    if mismatched == 0:
        message = f"{check.node}'s {what} matches (the largest difference is {largest:.3g}, within {tolerance})."
    elif not finite:
        message = f"{check.node}'s {what} holds NaN or inf where the exercise expects finite numbers."
    else:
        message = (
            f"{check.node}'s {what} differs: {mismatched} of {diff.numel()} elements are further from the expected "
            f"than {tolerance}, the furthest by {largest:.3g}."
        )
    return CheckResult(
        node=check.node,
        of=check.of,
        passed=mismatched == 0,
        max_abs_error=largest if finite else None,
        mismatched=mismatched,
        rtol=rtol,
        atol=atol,
        message=message,
    )

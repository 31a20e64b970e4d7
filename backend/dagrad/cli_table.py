"""The readable table `dagrad eval` prints: every node's shape, value and gradient."""

from __future__ import annotations

from typing import Any

import torch

from dagrad.errors import fmt_shape
from dagrad.results import BackwardGraph, BackwardStep, CheckResult, EvaluateResponse, NodeResult, TensorPayload

INLINE = 8  # tensors up to this many elements are printed inside the table
DETAIL = 64  # tensors up to this many are printed whole below it


def _tensor(p: TensorPayload) -> torch.Tensor | None:
    if p.data is None or p.data.values is None:
        return None
    return torch.tensor(p.data.values, dtype=torch.float64)


def _fmt_number(x: float | None) -> str:
    return "nan/inf" if x is None else f"{x:.4g}"


def cell(p: TensorPayload | None, note: str | None, full: bool) -> str:
    if p is None:
        return "-"
    t = _tensor(p)
    if t is not None and (full or p.numel <= INLINE):
        with _PrintOptions():
            text = str(t.tolist() if t.dim() == 0 else t).removeprefix("tensor(").removesuffix(")")
        text = text.replace(", dtype=torch.float64", "")
        return " ".join(text.split()) if not full else text
    s = p.stats
    return f"mean {_fmt_number(s.mean)} std {_fmt_number(s.std)} min {_fmt_number(s.min)} max {_fmt_number(s.max)}"


class _PrintOptions:
    def __enter__(self) -> None:
        torch.set_printoptions(precision=4, sci_mode=False)  # type: ignore[no-untyped-call]

    def __exit__(self, *exc: Any) -> None:
        torch.set_printoptions(profile="default")  # type: ignore[no-untyped-call]


def _row(n: NodeResult, full: bool) -> list[str]:
    flags = ("grad " if n.requires_grad else "") + ("leaf" if n.is_leaf and n.requires_grad else "")
    return [n.id, n.op, fmt_shape(n.shape), flags.strip(), cell(n.value, None, full), cell(n.grad, n.grad_note, full)]


def _details(result: EvaluateResponse) -> list[str]:
    """Small matrices and feature maps (like the chapter's pooling example) in full, PyTorch-style."""
    lines: list[str] = []
    for nid in result.order:
        n = result.nodes[nid]
        for kind, p in (("value", n.value), ("grad", n.grad)):
            t = None if p is None else _tensor(p)
            if p is not None and t is not None and INLINE < p.numel <= DETAIL:
                with _PrintOptions():
                    text = str(t).removeprefix("tensor(").removesuffix(")").replace(", dtype=torch.float64", "")
                lines += ["", f"{nid}.{kind} {fmt_shape(p.shape)}:", text.replace("\n       ", "\n")]
    return lines


def render(result: EvaluateResponse, full: bool = False) -> str:
    header = ["node", "op", "shape", "autograd", "value", "grad"]
    rows = [_row(result.nodes[nid], full) for nid in result.order]
    lines = []
    if full:
        for r in rows:
            lines.append(f"== {r[0]} ({r[1]}) {r[2]} {r[3]}\nvalue:\n{r[4]}\ngrad:\n{r[5]}\n")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header[:4])]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}  |  {}"
        lines.append(fmt.format(*header))
        lines.extend(fmt.format(*r) for r in rows)
    if not full:
        lines.extend(_details(result))
    run = result.run
    lines.append("")
    lines.append(
        f"seed {run.seed}, {run.device}, {run.dtype}; backward: {run.backward or 'none (run.output is not set)'}"
    )
    for n in result.nodes.values():
        if n.contributions:
            parts = ", ".join(f"{c.consumer}.{c.port}" for c in n.contributions)
            lines.append(f"{n.id} is shared: its gradient is the sum of the contributions through {parts}")
    return "\n".join(lines)


def render_backward_graph(graph: BackwardGraph) -> str:
    """The autograd graph, one autograd node a line: its id, PyTorch's name, the node that made
    it, where its gradients go (next_functions: slot -> id) and what it saved."""
    roots = ", ".join(f"{r.node}{'' if r.port is None else '.' + r.port} -> #{r.to}" for r in graph.roots)
    lines = [f"backward graph ({len(graph.nodes)} autograd nodes; from {roots or 'nothing: no backward'})"]
    for n in graph.nodes:
        nexts = ", ".join(f"{e.slot}->#{e.to}" for e in n.next)
        saved = "; ".join(
            f"{s.name}={s.node or '(internal)'} {fmt_shape(s.shape)}{'' if s.state == 'kept' else ' ' + s.state}"
            for s in n.saved
        )
        line = f"  #{n.id:<3} {n.name:<26} {n.node or '':<12} {nexts}"
        lines.append((line + (f"   saved: {saved}" if saved else "")).rstrip())
    return "\n".join(lines)


def render_checks(checks: list[CheckResult]) -> str:
    """The exercise's checks: how many pass, then one line each, PASS or FAIL with the verdict."""
    passed = sum(c.passed for c in checks)
    lines = [f"checks: {passed} of {len(checks)} pass"]
    for c in checks:
        lines.append(f"  {'PASS' if c.passed else 'FAIL'}  {c.node} {c.of}: {c.message}")
    return "\n".join(lines)


def render_backward_steps(graph: BackwardGraph, steps: list[BackwardStep]) -> str:
    """The backward passes as autograd ran them, one step a line: the autograd node (and the node
    that made it), the gradient that arrived, and what it sent to which autograd node."""
    lines = [f"backward steps ({len(steps)}, in the order autograd ran them)"]
    for i, s in enumerate(steps, start=1):
        n = graph.nodes[s.node]
        got = ", ".join(cell(p, None, False) for p in s.grad_outputs)
        sent = "; ".join(f"#{t.to} {graph.nodes[t.to].node or ''}: {cell(t.grad, None, False)}" for t in s.sent)
        where = f"pass {s.backward_pass + 1} " if s.backward_pass else ""
        lines.append(
            f"  {i:>3}. {where}#{n.id} {n.name} ({n.node or '?'})  got {got}" + (f"  -> {sent}" if sent else "")
        )
    return "\n".join(lines)

"""Step 5 of a compile: the backward settings, and the limits on the whole run's memory and work.

The whole run's work is every node's forward estimate (OpDef.estimate) plus, where the run has an
output, run.backward_passes times one backward through every node the output is computed from
that requires grad (Cost.backward: the registry's backward rule, or the op's own). An op that runs
a backward itself when called (OpDef.differentiates: torch.autograd.grad) first gets the backward
of every node between its two ports added to its forward, and their gradients to its memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from dagrad.compiler.found import Found
from dagrad.errors import dtype_name, fmt_shape
from dagrad.graph_format import Run
from dagrad.ops.registry import Cost, OpDef
from dagrad.plan import Edge, TensorMeta
from dagrad.settings import Settings


def check_backward(run: Run, metas: dict[str, TensorMeta], found: Found) -> None:
    if run.output is None or run.output not in metas:
        return
    meta = metas[run.output]
    if not meta.dtype.is_floating_point:
        found.error(
            run.output,
            "run",
            f"run.output is {dtype_name(meta.dtype)}; only floating point results can be differentiated.",
        )
    elif not meta.requires_grad:
        found.error(
            run.output,
            "run",
            "run.output does not require grad: no tensor it is computed from has requires_grad. "
            "Set requires_grad on a parameter or input that feeds it.",
        )
    elif math.prod(meta.shape) != 1 and run.grad_output is None:
        found.error(
            run.output,
            "run",
            f"run.output has shape {fmt_shape(meta.shape)}, not a scalar, so backward needs a choice: "
            "set run.grad_output to 'sum' (differentiate its sum) or 'ones' "
            "(output.backward(torch.ones_like(output))), or pick a scalar loss as output.",
        )
    for w in run.wrt or []:
        if w in metas and not metas[w].requires_grad:
            found.error(
                w,
                "run",
                f"run.wrt names {w!r}, which does not require grad, so it gets no gradient. "
                "Set its requires_grad or remove it from wrt.",
            )


def _nbytes(meta: TensorMeta) -> int:
    return math.prod(meta.shape) * meta.dtype.itemsize


def _ancestors(nid: str, edges: Mapping[str, tuple[Edge, ...]]) -> set[str]:
    """`nid` and every node it is computed from."""
    seen, stack = {nid}, [nid]
    while stack:
        for e in edges.get(stack.pop(), ()):
            if e.source not in seen:
                seen.add(e.source)
                stack.append(e.source)
    return seen


def _descendants(nid: str, edges: Mapping[str, tuple[Edge, ...]]) -> set[str]:
    """Every node computed from `nid`, not `nid` itself."""
    users: dict[str, list[str]] = {}
    for consumer, ins in edges.items():
        for e in ins:
            users.setdefault(e.source, []).append(consumer)
    seen: set[str] = set()
    stack = [nid]
    while stack:
        for u in users.get(stack.pop(), ()):
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return seen


def node_costs(
    order: list[str],
    ops: Mapping[str, OpDef],
    edges: Mapping[str, tuple[Edge, ...]],
    costs: Mapping[str, Cost],
    metas: Mapping[str, TensorMeta],
) -> dict[str, Cost]:
    """Each node's cost, an op that differentiates part of the graph (OpDef.differentiates) with
    the backward it runs: through every node between its ports that requires grad, as autograd
    only runs those (a node of the inputs' graph that leads elsewhere is skipped)."""
    final = dict(costs)
    for nid in order:  # topological: a differentiated node's cost is final before its user's
        op = ops[nid]
        if op.differentiates is None or nid not in final:
            continue
        out_port, in_port = op.differentiates
        source = {e.port: e.source for e in edges[nid]}
        between = _ancestors(source[out_port], edges) & _descendants(source[in_port], edges)
        between = {n for n in between if n in final and metas[n].requires_grad}
        own = final[nid]
        final[nid] = replace(
            own,
            forward=own.forward + sum(final[n].backward for n in between),
            extra_bytes=own.extra_bytes + sum(_nbytes(metas[n]) for n in between),
        )
    return final


def estimate_flops(
    run: Run, edges: Mapping[str, tuple[Edge, ...]], costs: Mapping[str, Cost], metas: Mapping[str, TensorMeta]
) -> float:
    """Forward, plus backward_passes times the backward through what the output is computed from
    (only a node that requires grad is gone through)."""
    forward = sum(c.forward for c in costs.values())
    if run.output is None or run.output not in costs:
        return forward
    upstream = _ancestors(run.output, edges)
    backward = sum(c.backward for n, c in costs.items() if n in upstream and metas[n].requires_grad)
    return forward + run.backward_passes * backward


def estimate_bytes(run: Run, metas: Mapping[str, TensorMeta], costs: Mapping[str, Cost]) -> int:
    """Every value, a gradient of the same size for each that requires grad when backward runs,
    and what ops hold beyond their values (Cost.extra_bytes)."""
    backward = run.output is not None
    total = sum(c.extra_bytes for c in costs.values())
    for meta in metas.values():
        total += _nbytes(meta) * (2 if backward and meta.requires_grad else 1)
    return total


def check_totals(
    metas: dict[str, TensorMeta], total_bytes: int, flops: float, settings: Settings, found: Found
) -> None:
    if total_bytes > settings.max_run_bytes:
        biggest = sorted(metas.items(), key=lambda kv: -math.prod(kv[1].shape))[:3]
        names = ", ".join(f"{nid} {fmt_shape(m.shape)}" for nid, m in biggest)
        found.error(
            None,
            "limit",
            f"this run would need about {total_bytes / 2**20:,.0f} MiB for its values and gradients; "
            f"this server allows {settings.max_run_bytes / 2**20:,.0f} MiB. The largest tensors: {names}.",
        )
    if flops > settings.max_flops:
        found.error(
            None,
            "limit",
            f"this run would take about {flops:.2e} floating point operations; "
            f"this server allows {settings.max_flops:.2e}.",
        )

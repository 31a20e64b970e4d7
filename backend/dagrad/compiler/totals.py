"""Step 5 of a compile: the backward settings, and the limits on the whole run's memory and work."""

from __future__ import annotations

import math

from dagrad.compiler.found import Found
from dagrad.errors import dtype_name, fmt_shape
from dagrad.graph_format import Run
from dagrad.plan import TensorMeta
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


def estimate_bytes(run: Run, metas: dict[str, TensorMeta]) -> int:
    """Every value, and a gradient of the same size for each that requires grad when backward runs."""
    backward = run.output is not None
    total = 0
    for meta in metas.values():
        size = math.prod(meta.shape) * meta.dtype.itemsize
        total += size * (2 if backward and meta.requires_grad else 1)
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

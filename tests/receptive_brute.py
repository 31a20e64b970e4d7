"""Brute-force dependency: which input elements an op's (or a graph's) output elements depend on,
found by perturbing each input element and seeing which outputs change. The independent check of
the structural receptive rules (test_receptive_rules.py, test_receptive_chains.py)."""

from __future__ import annotations

from collections.abc import Callable

import torch

# +100 makes an element the maximum of every window it is in and turns a relu on; -100 turns it
# off; halving keeps a probability a probability (binary_cross_entropy refuses anything else).
FLOAT_MOVES: tuple[Callable[[torch.Tensor], torch.Tensor], ...] = (
    lambda v: v + 100.0,
    lambda v: v - 100.0,
    lambda v: v * 0.5,
)


def _changed(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ~((a == b) | (a.isnan() & b.isnan()))


def dependency(
    f: Callable[[list[torch.Tensor]], torch.Tensor], tensors: list[torch.Tensor], int_high: list[int] | None = None
) -> list[torch.Tensor]:
    """For each tensor, a bool [out.numel(), tensor.numel()]: whether moving that element changes
    that output element (for some move; a move the op refuses is skipped)."""
    with torch.no_grad():
        base = f(tensors)
        found = []
        for k, t in enumerate(tensors):
            dep = torch.zeros(base.numel(), t.numel(), dtype=torch.bool)
            for j in range(t.numel()):
                if t.is_floating_point():
                    moves = FLOAT_MOVES
                else:
                    high = (int_high or [])[k] if int_high else int(t.max()) + 1
                    moves = (lambda v, h=high: (v + 1) % max(h, 2),)
                for move in moves:
                    moved = t.clone().reshape(-1)
                    moved[j] = move(moved[j])
                    others = [*tensors[:k], moved.reshape(t.shape), *tensors[k + 1 :]]
                    try:
                        out = f(others)
                    except Exception:  # a value the op refuses: no evidence either way
                        continue
                    dep[:, j] |= _changed(out, base).reshape(-1)
            found.append(dep)
    return found

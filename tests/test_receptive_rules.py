"""Each op's structural receptive rule against a brute-force dependency check: for every example
of every op in the registry, on small random tensors, the elements of each input that the rule
says one output element can depend on are exactly those whose perturbation changes it, in one of
several random draws (thirty where an int64 input, a class index, picks what else matters)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from dagrad.ops import REGISTRY
from dagrad.ops.registry import Example, OpDef
from op_cases import example_tensors, validated_attrs
from receptive_brute import dependency

# Ops that declare no receptive rule: a field through them is reported unknown (receptive.py).
# An op added to the registry must declare one, or be listed here with the reason.
WITHOUT_RULE = {
    "grad": "its value is a derivative of the graph between its ports: no rule of its own shapes states it",
    # Their fields hang on the run's train/eval switch (batch statistics or running ones; a drawn
    # mask), which a rule is not told, or on the data's spread (a normalised slice whose elements
    # are equal has no gradient to its weight): not stated rather than stated wrongly.
    "batch_norm": "training: its channel over the batch; eval: pointwise with the running statistics",
    "dropout": "pointwise where the mask keeps an element, nothing where it drops one: the mask is drawn",
    "layer_norm": "each normalised slice as a whole, and the weight and bias at the element's place",
    "group_norm": "each sample's group of channels as a whole, and the channel's weight and bias",
}

CASES = [
    pytest.param(op, ex, id=f"{op.name}-{i}")
    for op in REGISTRY.values()
    if op.receptive is not None and not op.source
    for i, ex in enumerate(op.examples)
    if not ex.large
]


def test_every_op_has_a_rule_or_says_why() -> None:
    missing = {name for name, op in REGISTRY.items() if op.receptive is None}
    assert missing == set(WITHOUT_RULE), "give the new op a `receptive` rule (ops/receptive_rules.py) or list it"


def _flat(tensors: dict[str, Any]) -> tuple[list[str], list[torch.Tensor]]:
    names, flat = [], []
    for port, v in tensors.items():
        for i, t in enumerate(v if isinstance(v, list) else [v]):
            names.append(port if not isinstance(v, list) else f"{port}[{i}]")
            flat.append(t.detach())
    return names, flat


@pytest.mark.parametrize(("op", "example"), CASES)
def test_rule_matches_brute_force(op: OpDef, example: Example) -> None:
    attrs = validated_attrs(op, example)
    tensors = example_tensors(example, seed=1)
    names, flat = _flat(tensors)
    # "Whatever the data": the union over several draws, since an element's influence may hang on
    # another's value (nll_loss reads the input's class that the target names).
    picks = any(not t.is_floating_point() for t in flat)
    draws = [flat] + [_flat(example_tensors(example, seed=s))[1] for s in range(2, 32 if picks else 5)]

    def call(values: list[torch.Tensor]) -> torch.Tensor:
        it = iter(values)
        args = {p: [next(it) for _ in v] if isinstance(v, list) else next(it) for p, v in tensors.items()}
        return op.call(args, attrs)

    highs = []
    for spec in example.inputs.values():
        for s in spec if isinstance(spec, list | tuple) else [spec]:
            highs.append(int(s.high))
    out = call(flat)
    if out.numel() * sum(t.numel() for t in flat) > 400_000:
        pytest.skip("too large to brute-force")
    expected = dependency(call, flat, highs)
    for other in draws[1:]:
        expected = [a | b for a, b in zip(expected, dependency(call, other, highs), strict=True)]
    shapes: dict[str, Any] = {p.name: None for p in op.ports}
    for port, v in tensors.items():
        shapes[port] = [tuple(t.shape) for t in v] if isinstance(v, list) else tuple(v.shape)
    assert op.receptive is not None
    for i in range(out.numel()):
        mask = torch.zeros(out.numel(), dtype=torch.bool)
        mask[i] = True
        found = op.receptive.code(shapes, mask.reshape(out.shape), attrs, op.call)
        got = []
        for port in tensors:
            m = found.get(port)
            got += list(m) if isinstance(m, list) else [m]
        for name, t, m, dep in zip(names, flat, got, expected, strict=True):
            assert m is not None, f"{op.name}: no mask for {name}"
            assert tuple(m.shape) == tuple(t.shape), f"{op.name}: {name}'s mask has the wrong shape"
            where = [int(x) for x in torch.unravel_index(torch.tensor(i), out.shape)] if out.dim() else []
            assert torch.equal(m.reshape(-1), dep[i]), (
                f"{op.name} {dict(example.attrs)}: output {where}, input {name}: rule "
                f"{m.reshape(-1).nonzero().flatten().tolist()} vs brute force {dep[i].nonzero().flatten().tolist()}"
            )
    assert math.prod(out.shape) == out.numel()

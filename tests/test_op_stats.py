"""Every op's large examples (`Example.large`), generated from the registry, in float32 and float64:
every statistic of the op's value and gradient and of every source's value and gradient against
PyTorch's, on tensors past every threshold of report/stats.py, by both paths (the CPU's, and the
GPU's exact_stats run on the CPU)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import torch

from dagrad.engine import validate
from dagrad.ops.registry import Example, OpDef, TensorExample
from dagrad.report import stats as stats_module
from dagrad.report.stats import exact_stats
from dagrad.results import PayloadOptions, TensorPayload
from graph_builder import GraphBuilder, decode
from op_cases import OPS, assert_grad, full_attrs, leaves
from oracles import ORACLES
from stats_oracle import assert_stats_match

LARGE_CASES = [
    pytest.param(op, i, ex, dtype, id=f"{op.name}-{i}-{dtype}")
    for op in OPS
    for i, ex in enumerate(op.examples)
    if ex.large
    for dtype in ("float32", "float64")
]


# --- statistics of large tensors against torch -----------------------------------------------------

SEGMENT_MAX = stats_module._SEGMENT_MAX  # past it, every float threshold of report/stats.py is too
RTOL = {"float32": 1e-5, "float64": 1e-9}
TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}
# Ports whose tensor the graph computes instead of a source: (op, port it reads, attrs). grad's
# outputs must be made from its inputs, since autograd matches them by identity.
COMPUTED_PORTS: dict[str, dict[str, tuple[str, str, dict[str, Any]]]] = {
    "grad": {"outputs": ("pow", "inputs", {"exponent": 3.0})},
}


def _grad_oracle(
    outputs: torch.Tensor,
    inputs: torch.Tensor,
    grad_outputs: torch.Tensor | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> torch.Tensor:
    """The grad op's oracle is torch.autograd.grad itself (tests/oracles.py has none)."""
    (g,) = torch.autograd.grad(
        outputs, inputs, grad_outputs, retain_graph=True, create_graph=create_graph, allow_unused=allow_unused
    )
    return g


def drawn_source(b: GraphBuilder, node_id: str, spec: TensorExample) -> str:
    """A source that dagrad draws itself as the example describes it: uniform in [low, high] in the
    run's dtype, int64 in [low, high)."""
    rg = spec.requires_grad and spec.dtype == "float"
    attrs: dict[str, Any] = {"shape": list(spec.shape), "init": "uniform", "low": spec.low, "high": spec.high}
    if spec.dtype == "int64":
        attrs["dtype"] = "int64"
    return b.source("parameter" if rg else "input", node_id, requires_grad=rg, **attrs)


def replayed_draws(seed: int, specs: dict[str, TensorExample], dtype: torch.dtype) -> torch.Generator:
    """The run's generator as the sources leave it: seeded with the run's seed, then each source's
    torch.empty(shape).uniform_(low, high) in document order (docs/graph-format.md, Randomness)."""
    g = torch.Generator().manual_seed(seed)
    for spec in specs.values():
        torch.empty(spec.shape, dtype=dtype).uniform_(spec.low, spec.high, generator=g)
    return g


def assert_stats(got: TensorPayload | None, t: torch.Tensor | None, rel: float, what: str) -> None:
    """dagrad's statistics of a tensor, and exact_stats' (the GPU's path, run here on the CPU), against
    PyTorch's float64 statistics of the oracle's tensor `t`. The absolute tolerance (which matters
    for a mean near zero) is rel times the tensor's largest magnitude, never more than
    assert_stats_match's default 1e-6: a gradient of elements near 1e-4 is checked as closely as
    one near 1."""
    if t is None:
        assert got is None, f"{what}: dagrad gives a tensor where torch gives none"
        return
    assert got is not None, f"{what}: dagrad gives no tensor where torch gives one"
    x = t.detach()
    assert got.shape == list(x.shape), what
    assert got.dtype == str(x.dtype).removeprefix("torch."), what
    tol = min(1e-6, rel * x.to(torch.float64).abs().max().item())
    [exact] = exact_stats([x])
    for path, stats in (("stats", got.stats), ("exact_stats", exact)):
        try:
            assert_stats_match(stats, x, rel=rel, abs=tol)
        except AssertionError as exc:
            raise AssertionError(f"{what}, {path} (numel {x.numel()}): {exc}") from exc


@pytest.mark.parametrize(("op", "index", "example", "dtype"), LARGE_CASES)
def test_large_example_stats_match_torch(op: OpDef, index: int, example: Example, dtype: str) -> None:
    """Every statistic of the op's value and gradient and of every source's value and gradient,
    against PyTorch in the run's dtype. The sources are drawn by dagrad (init 'uniform' with the
    example's range) and the oracle runs on their values as dagrad reports them: literal sources
    of this size would cost seconds each (validating a literal walks it element by element, twice:
    about 4 s for a million elements)."""
    rel = RTOL[dtype]
    attrs = full_attrs(op, example)
    computed = COMPUTED_PORTS.get(op.name, {})

    b = GraphBuilder(seed=index, dtype=dtype)
    specs: dict[str, TensorExample] = {}
    ids: dict[str, Any] = {}
    for port, spec in example.inputs.items():
        if isinstance(spec, TensorExample):
            specs[port] = spec
            ids[port] = drawn_source(b, port, spec)
        else:
            specs.update({f"{port}_{i}": s for i, s in enumerate(spec)})
            ids[port] = [drawn_source(b, f"{port}_{i}", s) for i, s in enumerate(spec)]
    for port, (source_op, read, source_attrs) in computed.items():
        ids[port] = b.op(source_op, port, attrs=source_attrs, input=ids[read])
    b.op(op.name, "out", attrs=dict(example.attrs), **ids)
    if op.differentiable:
        shape = validate(b.graph()).nodes["out"].shape
        b.constant("weights", shape=shape, init="uniform", low=0.5, high=1.5)
        b.op("mul", "weighted", input="out", other="weights")
        b.op("sum", "loss", input="weighted")
        b.run(output="loss")
    else:
        b.op("sum", "loss", input="out")
    nodes = b.evaluate(PayloadOptions(full=["*"])).nodes

    # The oracle, by plain autograd in the run's dtype, on the values dagrad drew.
    def value(nid: str) -> torch.Tensor:
        t = decode(nodes[nid].value)
        return t.requires_grad_(specs[nid].requires_grad and t.is_floating_point())

    ref: dict[str, Any] = {
        port: [value(nid) for nid in nid_or_list] if isinstance(nid_or_list, list) else value(nid_or_list)
        for port, nid_or_list in ids.items()
        if port not in computed
    }
    for port, (source_op, read, source_attrs) in computed.items():
        ref[port] = ORACLES[source_op](input=ref[read], **source_attrs)
    oracle = _grad_oracle if op.name == "grad" else ORACLES[op.name]
    draws: dict[str, Any] = {}
    if "generator" in inspect.signature(oracle).parameters:  # dropout: after the sources before it
        draws["generator"] = replayed_draws(index, specs, TORCH_DTYPE[dtype])
    out = oracle(**ref, **attrs, **draws)
    assert out.dtype == TORCH_DTYPE[dtype]
    if op.differentiable:
        assert out.requires_grad
        out.retain_grad()
        weights = decode(nodes["weights"].value)
        (out * weights).sum().backward()
        assert_stats(nodes["weights"].value, weights, rel, "value of the weights")

    # Past every threshold: the output, unless the op reduces to a scalar, and the largest source.
    sources = leaves({k: v for k, v in ref.items() if k not in computed})
    assert out.numel() == 1 or out.numel() > SEGMENT_MAX, f"output of {out.numel()} elements"
    assert max(t.numel() for t in sources.values()) > SEGMENT_MAX

    torch.testing.assert_close(decode(nodes["out"].value), out.detach())
    assert_stats(nodes["out"].value, out, rel, "the op's value")
    assert_stats(nodes["out"].grad, out.grad if op.differentiable else None, rel, "the op's gradient")
    assert_grad(nodes["out"].grad, out.grad if op.differentiable else None, "grad of the op's output")
    for nid, t in sources.items():
        assert_stats(nodes[nid].value, t, rel, f"value of source {nid!r}")
        assert_stats(nodes[nid].grad, t.grad, rel, f"gradient of source {nid!r}")
        assert_grad(nodes[nid].grad, t.grad, f"grad of source {nid!r}")
    for port in computed:
        assert_stats(nodes[port].value, ref[port], rel, f"value of the computed port {port!r}")

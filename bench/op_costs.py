"""Do the cost estimates track real cost? Every op's examples, timed on the CPU beside their estimate.

    python bench/op_costs.py [--large-only] [--only OP] [--threads 1] [--seconds 0.3] [--json out.json]

For each example of the registry (and the sources, and a few cases larger than the examples):
the estimated FLOPs of one forward and one backward as the server computes them (compile_graph,
Plan.costs), the measured time of the forward and of forward + backward on float32 tensors, and
their ratio in ns per estimated FLOP, sorted. Estimates that track real cost give ratios within a
narrow band; an op far outside it is estimated too low (above the band) or too high (below).
A measurement, not a test: it exits 0 whatever it measures. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))  # this checkout's dagrad, installed or not

import torch  # noqa: E402

from dagrad.compiler import compile_graph  # noqa: E402
from dagrad.graph_format import Graph  # noqa: E402
from dagrad.ops import REGISTRY  # noqa: E402
from dagrad.ops.registry import Example, OpDef, TensorExample  # noqa: E402
from dagrad.ops.sources import SourceAttrs, create  # noqa: E402
from dagrad.settings import Settings  # noqa: E402
from timing import compare  # noqa: E402

T = TensorExample
# grad's outputs must be computed from its inputs (autograd matches them by identity).
COMPUTED = {"grad": {"outputs": ("pow", "inputs", {"exponent": 3.0})}}
# Larger than the registry's examples: issue 11's pooling (scaled down), the course Net's layers.
EXTRA: list[tuple[str, Example]] = [
    ("max_pool2d", Example({"input": T((1, 1, 256, 256))}, {"kernel_size": 128, "stride": 1})),
    ("avg_pool2d", Example({"input": T((1, 1, 256, 256))}, {"kernel_size": 64, "stride": 1})),
    ("max_pool2d", Example({"input": T((64, 32, 24, 24))}, {"kernel_size": 3, "stride": 3})),
    ("conv2d", Example({"input": T((64, 1, 28, 28)), "weight": T((32, 1, 5, 5)), "bias": T((32,))})),
    ("conv2d", Example({"input": T((64, 32, 8, 8)), "weight": T((64, 32, 5, 5)), "bias": T((64,))})),
    ("matmul", Example({"input": T((8, 256, 256)), "other": T((256, 256))})),
    ("linear", Example({"input": T((256, 256)), "weight": T((200, 256)), "bias": T((200,))})),
    ("softmax", Example({"input": T((512, 1000))}, {"dim": 1})),
    ("exp", Example({"input": T((1000, 1000))})),
    ("add", Example({"input": T((1000, 1000)), "other": T((1000, 1000))})),
]
SOURCE_INITS = ("zeros", "full", "arange", "normal", "uniform")


@dataclass
class Row:
    case: str
    large: bool
    forward_flops: float
    backward_flops: float
    forward_ms: float
    both_ms: float | None  # forward + backward; None for an op without a backward

    @property
    def ns_per_flop(self) -> float:
        if self.both_ms is None or not self.backward_flops:
            return self.forward_ms * 1e6 / max(self.forward_flops, 1.0)
        return self.both_ms * 1e6 / max(self.forward_flops + self.backward_flops, 1.0)


def graph_of(op: OpDef, example: Example) -> Graph:
    """Sources as the example describes them, its computed ports, the op as node 'out'."""
    nodes: list[dict[str, Any]] = []

    def source(nid: str, spec: TensorExample) -> str:
        rg = spec.requires_grad and spec.dtype == "float"
        attrs: dict[str, Any] = {"shape": list(spec.shape), "init": "uniform", "low": spec.low, "high": spec.high}
        attrs |= {"dtype": "int64"} if spec.dtype == "int64" else {}
        nodes.append({"id": nid, "op": "parameter" if rg else "input", "attrs": {**attrs, "requires_grad": rg}})
        return nid

    ids: dict[str, Any] = {}
    for port, spec in example.inputs.items():
        ids[port] = (
            source(port, spec) if isinstance(spec, T) else [source(f"{port}_{i}", s) for i, s in enumerate(spec)]
        )
    for port, (source_op, read, attrs) in COMPUTED.get(op.name, {}).items():
        nodes.append({"id": port, "op": source_op, "attrs": attrs, "inputs": {"input": ids[read]}})
        ids[port] = port
    nodes.append({"id": "out", "op": op.name, "attrs": dict(example.attrs), "inputs": ids})
    return Graph.model_validate({"nodes": nodes})


def tensors_of(op: OpDef, example: Example, generator: torch.Generator) -> dict[str, Any]:
    def make(spec: TensorExample) -> torch.Tensor:
        if spec.dtype == "int64":
            return torch.randint(int(spec.low), int(spec.high), spec.shape, generator=generator)
        t = torch.empty(spec.shape).uniform_(spec.low, spec.high, generator=generator)
        return t.requires_grad_(spec.requires_grad)

    ins = {p: make(s) if isinstance(s, T) else [make(x) for x in s] for p, s in example.inputs.items()}
    for port, (source_op, read, attrs) in COMPUTED.get(op.name, {}).items():
        src = REGISTRY[source_op]
        ins[port] = src.call({"input": ins[read]}, src.attrs(**attrs))
    return ins


def leaves_of(ins: dict[str, Any]) -> list[torch.Tensor]:
    flat = [t for v in ins.values() for t in (v if isinstance(v, list) else [v])]
    return [t for t in flat if t.is_leaf and t.requires_grad]


def rounds_for(fn: Callable[[], object], seconds: float) -> int:
    start = time.perf_counter()
    fn()
    took = time.perf_counter() - start
    return max(3, min(200, int(seconds / max(took, 1e-6))))


def measure_op(op: OpDef, example: Example, label: str, seconds: float) -> Row:
    cost = compile_graph(graph_of(op, example), Settings(max_flops=1e15)).costs["out"]
    attrs = op.attrs.model_validate(dict(example.attrs))
    ins = tensors_of(op, example, torch.Generator().manual_seed(0))
    leaves = leaves_of(ins)
    out = op.call(ins, attrs)
    differentiable = op.differentiable and out.requires_grad
    ones = torch.ones_like(out)

    def forward() -> object:
        return op.call(ins, attrs)

    def both() -> None:
        for t in leaves:
            t.grad = None
        torch.autograd.backward(op.call(ins, attrs), ones)

    fns: dict[str, Callable[[], object]] = {"forward": forward} | ({"both": both} if differentiable else {})
    rounds = rounds_for(both if differentiable else forward, seconds)
    timed = compare(fns, rounds=rounds, warmup=2, device="cpu")
    return Row(
        label,
        example.large,
        cost.forward,
        cost.backward if differentiable else 0.0,
        timed["forward"].median_ms,
        timed["both"].median_ms if differentiable else None,
    )


def measure_source(init: str, seconds: float) -> Row:
    shape = [1000, 1000]
    graph = Graph.model_validate({"nodes": [{"id": "x", "op": "input", "attrs": {"shape": shape, "init": init}}]})
    cost = compile_graph(graph, Settings()).costs["x"]
    attrs = REGISTRY["input"].attrs.model_validate({"shape": shape, "init": init})
    assert isinstance(attrs, SourceAttrs)
    gen = torch.Generator().manual_seed(0)

    def fn() -> object:
        return create(attrs, torch.float32, gen)

    timed = compare({"fn": fn}, rounds=rounds_for(fn, seconds), warmup=2, device="cpu")
    return Row(f"input-{init} (shape 1000x1000, init={init})", True, cost.forward, 0.0, timed["fn"].median_ms, None)


def describe(example: Example) -> str:
    def shape(spec: TensorExample | Any) -> str:
        return "x".join(map(str, spec.shape)) if isinstance(spec, T) else "[" + ", ".join(map(shape, spec)) + "]"

    parts = [f"{p} {shape(s)}" for p, s in example.inputs.items()] + [f"{k}={v}" for k, v in example.attrs.items()]
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-only", action="store_true", help="only the large examples and the extra cases")
    parser.add_argument("--only", help="one op")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1: the cost of one core)")
    parser.add_argument("--seconds", type=float, default=0.3, help="about how long to time each case")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    cases = [(op, ex, f"{op.name}-{i}") for op in REGISTRY.values() for i, ex in enumerate(op.examples)]
    cases += [(REGISTRY[name], ex, f"{name}-extra{i}") for i, (name, ex) in enumerate(EXTRA)]
    rows: list[Row] = []
    for op, ex, label in cases:
        extra = "extra" in label
        if (args.only and op.name != args.only) or (args.large_only and not (ex.large or extra)):
            continue
        row = measure_op(op, ex, f"{label} ({describe(ex)})", args.seconds)
        row.large = row.large or extra
        rows.append(row)
    if not args.only or args.only in ("input", "parameter", "constant"):
        rows += [measure_source(init, args.seconds) for init in SOURCE_INITS]

    rows.sort(key=lambda r: r.ns_per_flop)
    print(f"{'case':<90} {'est fwd':>9} {'est bwd':>9} {'fwd ms':>8} {'f+b ms':>8} {'ns/FLOP':>8}")
    for r in rows:
        both = "-" if r.both_ms is None else f"{r.both_ms:.3f}"
        print(
            f"{r.case[:90]:<90} {r.forward_flops:9.3g} {r.backward_flops:9.3g} {r.forward_ms:8.3f} {both:>8} "
            f"{r.ns_per_flop:8.3f}"
        )
    large = [r.ns_per_flop for r in rows if r.large]
    if large:
        median = statistics.median(large)
        print(f"\nlarge cases: ns per estimated FLOP from {min(large):.3f} to {max(large):.3f}, median {median:.3f}")
        far = [r.case.split(" ")[0] for r in rows if r.large and not median / 8 <= r.ns_per_flop <= median * 8]
        print(f"more than 8x from the median: {', '.join(far) or 'none'}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"ns_per_flop": r.ns_per_flop} for r in rows], indent=1))


if __name__ == "__main__":
    main()

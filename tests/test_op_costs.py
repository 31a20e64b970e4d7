"""Every op's cost estimate against an independent count, generated from the registry's examples
(large ones included), and whole graphs whose real work the estimates must not miss.

The count is PyTorch's `FlopCounterMode` where it counts the op (matrix products, convolutions,
and their backward), else the op's work written out below: one operation per element compared,
added, multiplied or transformed, and per element moved for a view or copy. An estimate may not
be below the count (an underestimate lets work past the server's limits) nor over FACTOR times it.
FACTOR is 4: the registry counts an elementwise op or a data movement as the elements it reads and
writes (OpDef's default), 3 times the count for a binary op of two same-shaped operands (the
largest ratio of any example, less when one broadcasts), 2 for a unary op or a view; 4 leaves that
room and still fails an estimate off by an order of magnitude, as pooling's was (its window left
out: 1/window of the work, 1/262,144 for issue 11's pooling).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dagrad.compiler import CompileErrors, compile_graph
from dagrad.graph_format import Graph
from dagrad.ops import REGISTRY
from dagrad.ops.registry import BACKWARD_FACTOR, Cost, Example, OpDef, TensorExample
from dagrad.settings import Settings
from op_cases import OPS, validated_attrs

FACTOR = 4.0
CASES = [pytest.param(op, i, ex, id=f"{op.name}-{i}") for op in OPS for i, ex in enumerate(op.examples)]
# Ports whose tensor the graph computes (grad's outputs must be made from its inputs).
COMPUTED: dict[str, dict[str, tuple[str, str, dict[str, Any]]]] = {
    "grad": {"outputs": ("pow", "inputs", {"exponent": 3.0})},
}
Count = Callable[[dict[str, Any], torch.Tensor, Any], float]


# --- the work of each op, written out ------------------------------------------------------------


def _n(ins: dict[str, Any], port: str = "input") -> int:
    t = ins.get(port)
    return t.numel() if isinstance(t, torch.Tensor) else 0


def _per_output(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    """An elementwise op: one operation per result; a view or copy: each element moved once."""
    return float(out.numel())


def _scaled_other(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    return float(out.numel() * (1 if a.alpha == 1 else 2))  # input + alpha * other


def _matmul(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    x, y = ins["input"].shape, ins["other"].shape
    x, y = (1, *x) if len(x) == 1 else x, (*y, 1) if len(y) == 1 else y
    batch = torch.broadcast_shapes(x[:-2], y[:-2])
    return 2.0 * math.prod(batch) * x[-2] * x[-1] * y[-1]


def _linear(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    rows = math.prod(ins["input"].shape[:-1])
    w = ins["weight"]
    outs = w.shape[0] if w.dim() == 2 else 1
    return 2.0 * rows * w.shape[-1] * outs + (rows * outs if ins.get("bias") is not None else 0)


def _conv_macs(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    """Per output element, a multiply-add per input channel of its group and kernel tap."""
    w = ins["weight"]
    spatial = w.dim() - 2
    in_channels = ins["input"].shape[-spatial - 1]
    return float(out.numel() * (in_channels // a.groups) * math.prod(w.shape[2:]))


def _conv_backward(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    """The input's gradient and the weight's, each a multiply-add per output element and tap of
    the forward; the bias's, a sum of the output's gradient."""
    return 4.0 * _conv_macs(ins, out, a) + (out.numel() if ins.get("bias") is not None else 0)


def _window(a: Any, spatial: int) -> int:
    k = a.kernel_size
    sizes = [k] * spatial if isinstance(k, int) else (k * spatial if len(k) == 1 else k)
    return math.prod(sizes)


def _passes(*names: str) -> Count:
    return lambda ins, out, a: float(len(names) * _n(ins))


def _norm(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    steps = ("abs or square", "add") if a.p in (1.0, 2.0) else ("abs", "power", "add")
    return float(len(steps) * _n(ins) + out.numel())


def _cross_entropy(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    n, target = _n(ins), ins["target"]
    log_softmax = 5 * n  # max, subtract, exp, sum, subtract the sum's log
    picked = 2 * n if target.dtype.is_floating_point else 3 * target.numel()  # products and sum | pick, weigh, sum
    return float(log_softmax + picked + (n if a.label_smoothing else 0))


def _bce(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    steps = ("log x", "1 - x", "log(1 - x)", "clamp", "clamp", "1 - y", "product", "product", "sum", "negate")
    return float((len(steps) + (ins.get("weight") is not None)) * _n(ins))


def _grad(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    return 3.0 * _n(ins, "inputs")  # the example's outputs is inputs ** 3: backward is g * 3 * x ** 2


def _normalise(ins: dict[str, Any], out: torch.Tensor, a: Any) -> float:
    """Per element: added into the mean, its difference from it, squared, added into the variance,
    the difference again and its division by the deviation; then a multiplication by the weight
    and an addition of the bias, where wired."""
    affine = sum(ins.get(p) is not None for p in ("weight", "bias"))
    return float(out.numel() * (6 + affine))


WRITTEN: dict[str, Count] = {
    **dict.fromkeys(("add", "sub"), _scaled_other),
    **dict.fromkeys(
        ("mul", "div", "neg", "exp", "log", "sqrt", "abs", "pow", "relu", "tanh", "sigmoid", "detach"), _per_output
    ),
    **dict.fromkeys(
        ("reshape", "view", "flatten", "transpose", "permute", "index", "cat", "stack", "squeeze", "unsqueeze"),
        _per_output,
    ),
    "matmul": _matmul,
    "dot": lambda ins, out, a: 2.0 * _n(ins),
    "linear": _linear,
    **dict.fromkeys(("batch_norm", "layer_norm", "group_norm"), _normalise),
    "dropout": lambda ins, out, a: 2.0 * out.numel(),  # a draw and a multiplication per element
    **dict.fromkeys(("conv1d", "conv2d"), lambda ins, out, a: 2.0 * _conv_macs(ins, out, a)),
    "max_pool1d": lambda ins, out, a: float(out.numel() * _window(a, 1)),
    "max_pool2d": lambda ins, out, a: float(out.numel() * _window(a, 2)),
    "avg_pool2d": lambda ins, out, a: float(out.numel() * (_window(a, 2) + 1)),  # adds, a division
    "softmax": _passes("max", "subtract", "exp", "sum", "divide"),
    "log_softmax": _passes("max", "subtract", "exp", "sum", "subtract the log"),
    **dict.fromkeys(("sum", "max"), _passes("read")),
    "mean": lambda ins, out, a: float(_n(ins) + out.numel()),
    "norm": _norm,
    "mse_loss": lambda ins, out, a: float((2 if a.reduction == "none" else 3) * _n(ins)),  # subtract, square, sum
    "cross_entropy": _cross_entropy,
    "nll_loss": lambda ins, out, a: 3.0 * _n(ins, "target"),  # pick, weigh, sum
    "binary_cross_entropy": _bce,
    "grad": _grad,
}
# Backward where an op declares its own (the rest follow BACKWARD_FACTOR, or FlopCounterMode counts them).
BACKWARD_WRITTEN: dict[str, Count] = {
    **dict.fromkeys(("max_pool1d", "max_pool2d"), lambda ins, out, a: float(_n(ins) + out.numel())),
    "avg_pool2d": lambda ins, out, a: float(_n(ins) + out.numel() * _window(a, 2)),
    "index": lambda ins, out, a: float(_n(ins) + out.numel()),  # zero-fill, copy the slice in
    "nll_loss": lambda ins, out, a: float(_n(ins) + _n(ins, "target")),
    # FlopCounterMode counts a grouped convolution's weight gradient over every pair of input and
    # output channels, not those of a group (its conv_backward_flop ignores groups): `groups` times
    # too much. Ungrouped ones it counts right, and these agree with it (checked below).
    **dict.fromkeys(("conv1d", "conv2d"), _conv_backward),
}


# --- the estimate, as the server computes it; the count, on the meta device ------------------------


def _graph(op: OpDef, example: Example, **run: Any) -> Graph:
    """Drawn sources as the example describes them, the computed ports, the op as node 'out'."""
    nodes: list[dict[str, Any]] = []
    ids: dict[str, Any] = {}

    def source(nid: str, spec: TensorExample) -> str:
        rg = spec.requires_grad and spec.dtype == "float"
        attrs: dict[str, Any] = {"shape": list(spec.shape), "init": "uniform", "low": spec.low, "high": spec.high}
        nodes.append({"id": nid, "op": "parameter" if rg else "input", "attrs": {**attrs, "requires_grad": rg}})
        if spec.dtype == "int64":
            nodes[-1]["attrs"]["dtype"] = "int64"
        return nid

    for port, spec in example.inputs.items():
        ids[port] = (
            source(port, spec)
            if isinstance(spec, TensorExample)
            else [source(f"{port}_{i}", s) for i, s in enumerate(spec)]
        )
    for port, (source_op, read, attrs) in COMPUTED.get(op.name, {}).items():
        nodes.append({"id": port, "op": source_op, "attrs": attrs, "inputs": {"input": ids[read]}})
        ids[port] = port
    nodes.append({"id": "out", "op": op.name, "attrs": dict(example.attrs), "inputs": ids})
    return Graph.model_validate({"nodes": nodes, "run": run})


def _estimate(op: OpDef, example: Example) -> Cost:
    return compile_graph(_graph(op, example), Settings()).costs["out"]


def _meta_inputs(op: OpDef, example: Example) -> dict[str, Any]:
    def meta(spec: TensorExample) -> torch.Tensor:
        dtype = torch.int64 if spec.dtype == "int64" else torch.float32
        return torch.empty(spec.shape, dtype=dtype, device="meta").requires_grad_(
            spec.requires_grad and spec.dtype == "float"
        )

    ins = {p: meta(s) if isinstance(s, TensorExample) else [meta(t) for t in s] for p, s in example.inputs.items()}
    for port, (source_op, read, attrs) in COMPUTED.get(op.name, {}).items():
        ins[port] = REGISTRY[source_op].call({"input": ins[read]}, REGISTRY[source_op].attrs(**attrs))
    return ins


def _counted(fn: Callable[[], object]) -> int:
    with FlopCounterMode(display=False) as mode:
        fn()
    return int(mode.get_total_flops())


def _within(estimate: float, count: float, what: str) -> None:
    assert count <= estimate <= FACTOR * count, f"{what}: estimated {estimate:.4g}, counted {count:.4g}"


# --- every op, forward and backward -------------------------------------------------------------


def test_every_op_has_a_count_and_a_case() -> None:
    names = {op.name for op in OPS}
    assert set(WRITTEN) == names, f"ops without a count here: {sorted(names - set(WRITTEN))}"
    assert {p.values[0].name for p in CASES} == names, "an op without an Example escapes this test"
    for name, op in REGISTRY.items():
        assert op.source or op.examples, name


@pytest.mark.parametrize(("op", "index", "example"), CASES)
def test_forward_estimate_covers_the_work(op: OpDef, index: int, example: Example) -> None:
    ins, attrs = _meta_inputs(op, example), validated_attrs(op, example)
    outs: list[torch.Tensor] = []
    with torch.enable_grad():
        counted = _counted(lambda: outs.append(op.call(ins, attrs)))
    count = counted or WRITTEN[op.name](ins, outs[0], attrs)
    _within(_estimate(op, example).forward, count, f"{op.name} forward")


@pytest.mark.parametrize(("op", "index", "example"), [c for c in CASES if c.values[0].differentiable])
def test_backward_estimate_covers_the_work(op: OpDef, index: int, example: Example) -> None:
    ins, attrs = _meta_inputs(op, example), validated_attrs(op, example)
    with torch.enable_grad():
        out = op.call(ins, attrs)
        counted = _counted(lambda: torch.autograd.backward(out, torch.ones_like(out)))
    cost = _estimate(op, example)
    written = BACKWARD_WRITTEN.get(op.name)
    if written is not None:
        count = written(ins, out, attrs)
        if counted and op.name.startswith("conv") and attrs.groups == 1:
            assert count == pytest.approx(counted + (out.numel() if "bias" in ins else 0))
        _within(cost.backward, count, f"{op.name} backward")
    elif counted:
        _within(cost.backward, counted, f"{op.name} backward")
    else:
        assert cost.backward == BACKWARD_FACTOR * cost.forward


def test_a_source_costs_its_elements_and_random_ones_their_draws() -> None:
    """Sources are counted per element: at least the write, for a random init its draws (each of
    them a dozen integer operations or more), at most a literal's unboxing (sources.py says which)."""

    def cost(init: str) -> float:
        attrs: dict[str, Any] = {"shape": [300, 7], "init": init}
        attrs |= {"values": [[1.0] * 7] * 300} if init == "values" else {}
        graph = Graph.model_validate({"nodes": [{"id": "x", "op": "input", "attrs": attrs}]})
        return compile_graph(graph, Settings()).costs["x"].forward

    costs = {init: cost(init) for init in ("zeros", "ones", "full", "arange", "uniform", "normal", "values")}
    assert all(2100 <= c <= 64 * 2100 for c in costs.values()), costs
    assert costs["normal"] > costs["uniform"] >= 12 * 2100 > costs["arange"] > costs["zeros"], costs


# --- whole runs ----------------------------------------------------------------------------------

LIMIT_MESSAGE = r"this run would take about ([\d.]+e\+\d+) floating point operations; this server allows {}\."


def _refused(graph: Graph, settings: Settings) -> float:
    """The estimate a refusal states, the refusal's form checked."""
    with pytest.raises(CompileErrors) as info:
        compile_graph(graph, settings)
    [error] = info.value.errors
    match = re.fullmatch(LIMIT_MESSAGE.format(re.escape(f"{settings.max_flops:.2e}")), error.message)
    assert (error.code, error.node) == ("limit", None), error
    assert match, error.message
    return float(match.group(1))


def test_max_pooling_with_a_large_window_is_refused() -> None:
    """Issue 11's pooling: a 512×512 window at stride 1 over 1024×1024, about 35-45 s of a core.
    The old estimate (input + output elements) was 1.3e6; the real work is every window element of
    every output, 7e10 comparisons, refused under a limit of 1e10 (about 5 s at the 0.5 ns per
    comparison bench/op_costs.py measures; the default 2e11 lets it through, as it lets through
    2e11 FLOPs of anything)."""
    graph = Graph.model_validate(
        {
            "nodes": [
                {"id": "x", "op": "parameter", "attrs": {"shape": [1, 1, 1024, 1024]}},
                {"id": "p", "op": "max_pool2d", "attrs": {"kernel_size": 512, "stride": 1}, "inputs": {"input": "x"}},
                {"id": "loss", "op": "sum", "inputs": {"input": "p"}},
            ],
            "run": {"output": "loss", "backward_passes": 8},
        }
    )
    real = (1024 - 512 + 1) ** 2 * 512**2
    stated = _refused(graph, Settings(max_flops=1e10))
    assert real <= stated <= FACTOR * real
    assert compile_graph(graph, Settings()).estimated_flops >= real


def _chain(n: int, length: int, passes: int) -> Graph:
    nodes: list[dict[str, Any]] = [
        {"id": "w", "op": "parameter", "attrs": {"shape": [n, n]}},
        {"id": "h0", "op": "input", "attrs": {"shape": [n, n]}},
    ]
    for i in range(1, length + 1):
        nodes.append({"id": f"h{i}", "op": "matmul", "inputs": {"input": f"h{i - 1}", "other": "w"}})
    nodes.append({"id": "loss", "op": "sum", "inputs": {"input": f"h{length}"}})
    return Graph.model_validate({"nodes": nodes, "run": {"output": "loss", "backward_passes": passes}})


def test_a_chain_of_matmuls_with_backward_passes_is_refused() -> None:
    """Issue 11's chain: 50 products of 1024×1024 matrices (1.07e11 FLOPs forward: under the
    default limit, all the old estimate counted) and 8 backward passes of two products each."""
    n, length, passes = 1024, 50, 8
    w = torch.empty(n, n, device="meta", requires_grad=True)
    values = [torch.empty(n, n, device="meta")]
    forward = _counted(lambda: [values.append(values[-1] @ w) for _ in range(length)])
    loss = values[-1].sum()
    backward = _counted(lambda: [torch.autograd.backward(loss, retain_graph=True) for _ in range(passes)])
    real = forward + backward
    assert forward < Settings().max_flops < real
    stated = _refused(_chain(n, length, passes), Settings())
    assert real <= stated <= FACTOR * real


def test_the_grad_op_counts_the_backward_it_runs() -> None:
    """grad through three products, with create_graph, then two backward passes through it all,
    against FlopCounterMode's count of the same on the meta device."""
    n = 256
    nodes: list[dict[str, Any]] = [
        {"id": "x", "op": "parameter", "attrs": {"shape": [n, n]}},
        {"id": "w", "op": "parameter", "attrs": {"shape": [n, n]}},
        {"id": "h1", "op": "matmul", "inputs": {"input": "x", "other": "w"}},
        {"id": "h2", "op": "matmul", "inputs": {"input": "h1", "other": "w"}},
        {"id": "h3", "op": "matmul", "inputs": {"input": "h2", "other": "h2"}},
        {"id": "s", "op": "sum", "inputs": {"input": "h3"}},
        {"id": "g", "op": "grad", "attrs": {"create_graph": True}, "inputs": {"outputs": "s", "inputs": "x"}},
        {"id": "loss", "op": "sum", "inputs": {"input": "g"}},
    ]
    graph = Graph.model_validate({"nodes": nodes, "run": {"output": "loss", "backward_passes": 2}})
    x, w = (torch.empty(n, n, device="meta", requires_grad=True) for _ in range(2))

    def run() -> None:
        h2 = x @ w @ w
        (g,) = torch.autograd.grad((h2 @ h2).sum(), x, create_graph=True)
        loss = g.sum()
        for _ in range(2):
            torch.autograd.backward(loss, retain_graph=True)

    _within(compile_graph(graph, Settings()).estimated_flops, _counted(run), "grad through three products")


def test_max_pooling_indices_are_in_the_memory_estimate() -> None:
    graph = Graph.model_validate(
        {
            "nodes": [
                {"id": "x", "op": "parameter", "attrs": {"shape": [4, 8, 64, 64]}},
                {"id": "p", "op": "max_pool2d", "attrs": {"kernel_size": 2}, "inputs": {"input": "x"}},
                {"id": "loss", "op": "sum", "inputs": {"input": "p"}},
            ],
            "run": {"output": "loss"},
        }
    )
    values_and_grads = 2 * 4 * (4 * 8 * 64 * 64 + 4 * 8 * 32 * 32 + 1)
    assert compile_graph(graph, Settings()).estimated_bytes == values_and_grads + 8 * 4 * 8 * 32 * 32

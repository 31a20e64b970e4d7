"""CUDA runs: the same numbers as PyTorch on the GPU. Skipped on machines without one."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from conftest import DAG_4_1
from dagrad.engine import evaluate
from dagrad.graph_format import Graph
from dagrad.results import PayloadOptions
from graph_builder import decode
from stats_oracle import assert_stats_match

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_dag_on_cuda_matches_torch_on_cuda() -> None:
    graph = copy.deepcopy(DAG_4_1)
    graph["run"]["device"] = "cuda"
    result = evaluate(Graph.model_validate(graph))
    assert result.run.device.startswith("cuda")
    assert result.nodes["q"].device.startswith("cuda")
    torch.manual_seed(0)  # sources are drawn on the CPU, then moved: the same numbers on every device
    w1 = torch.rand(5, 5).cuda().requires_grad_()
    w2 = torch.rand(5, 5).cuda().requires_grad_()
    x = torch.empty(5).normal_().cuda()
    q = (w1 @ (w1 @ x + x + w2 @ (w1 @ x))).norm()
    q.backward()
    assert w1.grad is not None
    torch.testing.assert_close(decode(result.nodes["w1"].grad), w1.grad.cpu())
    torch.testing.assert_close(decode(result.nodes["q"].value), q.detach().cpu())


def test_auto_picks_cuda() -> None:
    graph = copy.deepcopy(DAG_4_1)
    graph["run"]["device"] = "auto"
    assert evaluate(Graph.model_validate(graph)).run.device.startswith("cuda")


def _conv_graph(device: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [4, 3, 12, 12]}},
            {
                "id": "w",
                "op": "parameter",
                "attrs": {"shape": [8, 3, 3, 3], "init": "uniform", "low": -0.2, "high": 0.2},
            },
            {"id": "b", "op": "parameter", "attrs": {"shape": [8], "init": "zeros"}},
            {
                "id": "c",
                "op": "conv2d",
                "attrs": {"padding": 1, "stride": 2},
                "inputs": {"input": "x", "weight": "w", "bias": "b"},
            },
            {"id": "p", "op": "max_pool2d", "attrs": {"kernel_size": 2}, "inputs": {"input": "c"}},
            {"id": "l", "op": "sum", "inputs": {"input": "p"}},
        ],
        "run": {"device": device, "dtype": "float64", "output": "l"},
    }


def _torch_conv(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """_conv_graph's weight and conv output, by hand: the sources drawn on the CPU, as dagrad draws
    them, then moved to `device`."""
    torch.manual_seed(0)
    x = torch.empty(4, 3, 12, 12, dtype=torch.float64).normal_().to(device)
    w = torch.empty(8, 3, 3, 3, dtype=torch.float64).uniform_(-0.2, 0.2).to(device).requires_grad_()
    b = torch.zeros(8, dtype=torch.float64, device=device, requires_grad=True)
    return w, F.conv2d(x, w, b, stride=2, padding=1)


def test_conv_on_cuda_matches_torch_on_cuda() -> None:
    result = evaluate(Graph.model_validate(_conv_graph("cuda")))
    w, c = _torch_conv("cuda")
    F.max_pool2d(c, 2).sum().backward()
    assert w.grad is not None
    torch.testing.assert_close(decode(result.nodes["w"].grad), w.grad.cpu())


def test_stats_and_truncation_on_cuda() -> None:
    graph = _conv_graph("cuda")
    result = evaluate(Graph.model_validate(graph), PayloadOptions(max_elements=100, full=["w"]))
    conv = result.nodes["c"]
    assert conv.value.truncated is True
    assert conv.value.data is None
    assert result.nodes["w"].value.data is not None
    _, c = _torch_conv("cpu")
    assert_stats_match(conv.value.stats, c, rel=1e-9, abs=0.0)


def test_float32_statistics_of_large_tensors_on_cuda() -> None:
    # On a GPU every statistic takes the exact path: its float32 tensors past the segment size
    # must still be summarised as PyTorch's float64 reductions give.
    graph = _conv_graph("cuda")
    graph["run"]["dtype"] = "float32"
    graph["nodes"][0]["attrs"]["shape"] = [64, 3, 40, 40]
    result = evaluate(Graph.model_validate(graph), PayloadOptions(full=["*"]))
    for nid in ("x", "c", "p"):
        node = result.nodes[nid]
        assert node.value.numel > 2**14
        assert_stats_match(node.value.stats, decode(node.value), rel=1e-5)
        if node.grad is not None:
            assert_stats_match(node.grad.stats, decode(node.grad), rel=1e-5)

"""The `dagrad` command line: eval, validate, ops, examples, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from conftest import DAG_4_1


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagrad", *args], capture_output=True, text=True, input=stdin, timeout=120
    )


def test_eval_prints_a_table_with_pytorch_numbers(tmp_path: Path) -> None:
    graph = {
        "nodes": [
            {"id": "x", "op": "parameter", "attrs": {"init": "values", "values": [-3.0, 2.0, 5.0]}},
            {"id": "c", "op": "pow", "attrs": {"exponent": 3}, "inputs": {"input": "x"}},
            {"id": "u", "op": "sum", "inputs": {"input": "c"}},
        ],
        "run": {"output": "u"},
    }
    path = tmp_path / "pow.json"
    path.write_text(json.dumps(graph))
    out = run("eval", str(path))
    assert out.returncode == 0, out.stderr
    x = torch.tensor([-3.0, 2.0, 5.0], requires_grad=True)
    x.pow(3).sum().backward()
    assert x.grad is not None
    line = next(line for line in out.stdout.splitlines() if line.startswith("x "))
    assert "[27., 12., 75.]" in line
    assert x.grad.tolist() == [27.0, 12.0, 75.0]
    assert "u.backward()" in out.stdout


def test_eval_json_and_stdin() -> None:
    out = run("eval", "-", "--json", stdin=json.dumps(DAG_4_1))
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["nodes"]["q"]["shape"] == []
    assert body["nodes"]["w1"]["grad"]["data"]["encoding"] == "list"


def test_validate_reports_located_errors(tmp_path: Path) -> None:
    graph = json.loads(json.dumps(DAG_4_1))
    graph["nodes"][1]["attrs"]["shape"] = [5, 4]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(graph))
    out = run("validate", str(path))
    assert out.returncode == 1
    assert "node 'w2x1', port 'other'" in out.stderr
    ok = run("validate", "-", stdin=json.dumps(DAG_4_1))
    assert ok.returncode == 0
    assert "valid: 9 nodes" in ok.stdout


def test_malformed_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"nodes": [{"id": "a"}]}')
    out = run("eval", str(path))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "nodes.0.op" in out.stderr


def test_ops_and_examples_listings() -> None:
    ops = run("ops")
    assert ops.returncode == 0
    assert "conv2d" in ops.stdout
    assert ops.stdout.startswith("sources:")
    examples = run("examples")
    assert examples.returncode == 0
    first = examples.stdout.split()[0]
    shown = run("examples", first)
    assert json.loads(shown.stdout)["nodes"]


def test_ops_docs_are_up_to_date() -> None:
    from dagrad.ops.docs import render_markdown

    committed = (Path(__file__).parent.parent / "docs" / "ops.md").read_text()
    assert committed == render_markdown(), "docs/ops.md is stale: run `dagrad ops --markdown > docs/ops.md`"


def test_eval_prints_the_backward_graph_when_asked() -> None:
    out = run("eval", "linear_batch", "--backward-graph")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("backward graph"))
    # nn.Linear's autograd graph, as PyTorch builds it: addmm (bias, x, weight.t()) and the transpose.
    graph = [line.split()[:3] for line in lines[start + 1 :]]
    assert graph == [
        ["#0", "AddmmBackward0", "y"],
        ["#1", "AccumulateGrad", "bias"],
        ["#2", "TBackward0", "y"],
        ["#3", "AccumulateGrad", "weight"],
    ]
    assert "saved: mat1=x [523, 10] freed" in lines[start + 1]
    assert "backward graph" not in run("eval", "linear_batch").stdout


def test_eval_prints_the_backward_steps_when_asked() -> None:
    out = run("eval", "dag_4_1", "--backward-steps")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("backward steps"))
    steps = [line.split()[1:4] for line in lines[start + 1 :]]
    assert steps[0] == ["#0", "LinalgVectorNormBackward0", "(q)"]
    assert steps[-1][1:] == ["AccumulateGrad", "(w1)"]  # w1's two shares summed, last
    assert len(steps) == 8
    assert "got 1.0  -> " in lines[start + 1]  # backward starts from 1

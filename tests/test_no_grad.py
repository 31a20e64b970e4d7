"""no_grad regions (issue 12, part 3) against torch.no_grad(): what they compute, which results
require grad, what backward reaches, the chapter's parameter update in place, and documents
without regions meaning what they meant."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1, errors_of
from dagrad.compiler import CompileErrors
from dagrad.engine import Engine
from dagrad.graph_format import Graph
from dagrad.results import EvaluateResponse, PayloadOptions
from graph_builder import decode

# h = w * x under no_grad; y = h + w outside; loss = y.sum().
MIXED: dict[str, Any] = {
    "nodes": [
        {"id": "w", "op": "parameter", "attrs": {"init": "values", "values": [1.0, -2.0, 3.0]}},
        {"id": "x", "op": "input", "attrs": {"init": "values", "values": [0.5, 4.0, -1.0]}},
        {"id": "h", "op": "mul", "inputs": {"input": "w", "other": "x"}},
        {"id": "y", "op": "add", "inputs": {"input": "h", "other": "w"}},
        {"id": "loss", "op": "sum", "inputs": {"input": "y"}},
    ],
    "run": {"output": "loss"},
    "regions": [{"id": "frozen", "nodes": ["h"]}],
}


def evaluate(doc: dict[str, Any], engine: Engine | None = None) -> EvaluateResponse:
    return (engine or Engine()).evaluate(Graph.model_validate(doc), PayloadOptions(full=["*"]))


def test_a_region_runs_as_torch_no_grad_does() -> None:
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    x = torch.tensor([0.5, 4.0, -1.0])
    with torch.no_grad():
        h = w * x
    y = h + w
    y.sum().backward()

    nodes = evaluate(MIXED).nodes
    for nid, t in {"h": h, "y": y}.items():
        torch.testing.assert_close(decode(nodes[nid].value), t.detach())
        assert (nodes[nid].requires_grad, nodes[nid].is_leaf) == (t.requires_grad, t.is_leaf), nid
    assert w.grad is not None
    torch.testing.assert_close(decode(nodes["w"].grad), w.grad)  # only through y = h + w: ones
    assert nodes["h"].grad is None
    # w feeds h and y, but h, under no_grad, sends nothing back: w is not shared.
    assert nodes["w"].contributions is None
    assert Engine().validate(Graph.model_validate(MIXED)).shared == []


def test_validation_infers_what_the_region_changes() -> None:
    metas = Engine().validate(Graph.model_validate(MIXED)).nodes
    assert (metas["h"].requires_grad, metas["y"].requires_grad) == (False, True)
    without = {**MIXED, "regions": []}
    metas = Engine().validate(Graph.model_validate(without)).nodes
    assert metas["h"].requires_grad is True


def test_the_shape_memo_keeps_grad_mode_apart() -> None:
    """One engine, the same op on the same shapes inside and outside a region: requires_grad as
    PyTorch decides it each time, not as the memo first saw it."""
    engine = Engine()
    outside = {**MIXED, "regions": []}

    def inferred(doc: dict[str, Any]) -> bool:
        return engine.validate(Graph.model_validate(doc)).nodes["h"].requires_grad

    assert (inferred(outside), inferred(MIXED), inferred(outside)) == (True, False, True)
    assert evaluate(MIXED, engine).nodes["h"].requires_grad is False


def test_the_chapters_update_step_in_place_under_no_grad() -> None:
    """a -= eta * ga under torch.no_grad(): an in-place write into a leaf that requires grad,
    which PyTorch allows only there."""
    doc = {
        "nodes": [
            {"id": "a", "op": "parameter", "attrs": {"init": "values", "values": 0.5}},
            {"id": "a_sq", "op": "pow", "attrs": {"exponent": 2.0}, "inputs": {"input": "a"}},
            {"id": "ga", "op": "grad", "inputs": {"outputs": "a_sq", "inputs": "a"}},
            {"id": "eta", "op": "constant", "attrs": {"init": "values", "values": 0.1}},
            {"id": "step", "op": "mul", "inputs": {"input": "eta", "other": "ga"}},
            {"id": "update", "op": "sub", "attrs": {"inplace": True}, "inputs": {"input": "a", "other": "step"}},
        ],
        "regions": [{"id": "sgd", "nodes": ["step", "update"]}],
    }
    a = torch.tensor(0.5, requires_grad=True)
    (ga,) = torch.autograd.grad(a**2, a)
    with torch.no_grad():
        a -= 0.1 * ga
    nodes = evaluate(doc).nodes
    torch.testing.assert_close(decode(nodes["update"].value), a.detach())
    torch.testing.assert_close(decode(nodes["a"].value), a.detach())  # the leaf itself, updated
    assert nodes["a"].version == a._version == 1
    assert nodes["a"].requires_grad is True

    outside = {**doc, "regions": []}  # the same write outside no_grad: refused on its node, as PyTorch does
    b = torch.tensor(0.5, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        b.sub_(0.1)
    with pytest.raises(CompileErrors) as refused:
        Engine().validate(Graph.model_validate(outside))
    assert [e.node for e in refused.value.errors] == ["update"]


def test_regions_that_do_not_fit_the_graph_are_located(client: TestClient) -> None:
    doc = {**MIXED, "regions": [{"id": "r1", "nodes": ["h", "nowhere"]}, {"id": "r2", "nodes": ["h"]}]}
    errors = errors_of(client.post("/api/validate", json=doc))
    assert {(e["node"], e["code"]) for e in errors} == {(None, "unknown_node"), ("h", "malformed")}
    assert any("region 'r1' names 'nowhere'" in e["message"] for e in errors)
    assert any("in two regions, 'r1' and 'r2'" in e["message"] for e in errors)
    twice = {**MIXED, "regions": [{"id": "r", "nodes": ["h"]}, {"id": "r", "nodes": ["x"]}]}
    assert [e["code"] for e in errors_of(client.post("/api/validate", json=twice))] == ["duplicate_id"]


def test_a_document_without_regions_means_what_it_meant(client: TestClient) -> None:
    assert Graph.model_validate(DAG_4_1).regions == []
    assert client.post("/api/evaluate", json=DAG_4_1).status_code == 200

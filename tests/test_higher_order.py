"""A derivative differentiated again: without create_graph on the first grad node, PyTorch refuses
the second, and dagrad says, on the second grad node's outputs port, that create_graph is the fix."""

from __future__ import annotations

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import errors_of, found_by_validate
from dagrad import examples


def test_a_second_derivative_without_create_graph_names_create_graph_as_the_fix(client: TestClient) -> None:
    x = torch.tensor(2.0, requires_grad=True)
    (g,) = torch.autograd.grad(x**3, x)  # create_graph off
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.autograd.grad(g, x)

    doc = examples.load_all()["x3_second_derivative"].model_dump(mode="json")
    next(n for n in doc["nodes"] if n["id"] == "g")["attrs"]["create_graph"] = False
    for route in ("/api/validate", "/api/evaluate"):
        response = client.post(route, json=doc)
        [error] = found_by_validate(response) if route == "/api/validate" else errors_of(response)
        assert route == "/api/validate" or response.status_code == 422, response.text
        assert (error["node"], error["port"]) == ("g2", "outputs")
        assert "turn on that grad node's create_graph" in error["message"]


def test_outputs_computed_from_nothing_tracked_says_so(client: TestClient) -> None:
    doc = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [3]}},
            {"id": "w", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "s", "op": "sum", "inputs": {"input": "x"}},
            {"id": "g", "op": "grad", "inputs": {"outputs": "s", "inputs": "w"}},
        ]
    }
    [error] = errors_of(client.post("/api/validate", json=doc))
    assert (error["node"], error["port"]) == ("g", "outputs")
    assert "autograd tracked nothing it is computed from" in error["message"]


def test_grad_of_a_tensor_by_itself_is_the_tensor_given_as_pytorch_hands_it_back(client: TestClient) -> None:
    """torch.autograd.grad(x, x, grad_outputs=x) returns x itself (a leaf, no grad_fn); x is used
    three times, so the run feeds each use an identity view of it: the node must still be x, as
    validate says, not the view. Found by test_fuzz_graphs."""
    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    (g,) = torch.autograd.grad(x, x, grad_outputs=x, retain_graph=True)
    y = torch.relu(g)
    y.sum().backward()
    assert g is x
    doc = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [3], "requires_grad": True}},
            {"id": "g", "op": "grad", "inputs": {"outputs": "x", "inputs": "x", "grad_outputs": "x"}},
            {"id": "y", "op": "relu", "inputs": {"input": "g"}},
        ],
        "run": {"output": "y", "grad_output": "sum"},
    }
    ran = client.post("/api/evaluate?encoding=list", json=doc).json()["nodes"]
    assert (ran["g"]["is_leaf"], ran["g"]["grad_fn"]) == (g.is_leaf, None)
    assert ran["g"]["value"]["data"]["values"] == x.tolist()
    assert ran["x"]["grad"]["data"]["values"] == x.grad.tolist()
    valid = client.post("/api/validate", json=doc).json()["nodes"]
    assert valid["g"]["is_leaf"] is True

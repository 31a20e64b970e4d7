"""A backward that fails as PyTorch's fails (a second pass through a freed graph, a saved value
overwritten in place) shows, when the autograd graph is asked for, the graph as the failing pass
found it: the same autograd nodes, edges and saved tensors, freed or overwritten alike, as
independent PyTorch code left them after the same failure; and each error names the autograd
nodes of its node that it is about."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import errors_of
from dagrad import examples
from dagrad.results import BackwardGraph
from example_oracles import ORACLES
from test_backward_graph import dagrad_form, torch_form


def doc_of(name: str, **run: Any) -> dict[str, Any]:
    doc = examples.load_all()[name].model_dump(mode="json", exclude_none=True)
    doc["run"].update(run)
    return doc


def inplace_relu_doc() -> dict[str, Any]:
    doc = doc_of("sigmoid_inplace_relu")
    [r] = [n for n in doc["nodes"] if n["id"] == "r"]
    r["attrs"]["inplace"] = True
    return doc


def failed(client: TestClient, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], BackwardGraph]:
    response = client.post("/api/evaluate?backward_graph=true", json=doc)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["backward_graph"] is not None
    return errors_of(response), BackwardGraph.model_validate(body["backward_graph"])


def assert_errors_name_their_autograd_nodes(errors: list[dict[str, Any]], bg: BackwardGraph, state: str) -> None:
    named = [e for e in errors if e["autograd"]]
    assert named, "no error names an autograd node"
    for e in named:
        for name in e["autograd"]:
            mine = [n for n in bg.nodes if n.node == e["node"] and n.name == name]
            assert mine, f"{e['node']} made no {name}"
            assert any(s.state == state for n in mine for s in n.saved), (e["node"], name)


def test_a_second_pass_without_retain_graph_shows_what_the_first_freed(client: TestClient) -> None:
    errors, bg = failed(client, doc_of("tanh_net", backward_passes=2, retain_graph=False))

    expected = ORACLES["tanh_net"](0)  # the chapter's code, one backward done
    (loss,) = expected.roots
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    assert dagrad_form(bg, bg.roots[0].to) == torch_form(loss)
    assert {s.state for n in bg.nodes for s in n.saved} == {"freed"}

    assert_errors_name_their_autograd_nodes(errors, bg, "freed")
    # Every autograd node that lost a saved tensor is named by its node's error.
    named = {(e["node"], a) for e in errors for a in e["autograd"] or []}
    assert named == {(n.node, n.name) for n in bg.nodes if n.saved}


def test_an_inplace_write_shows_the_overwritten_saved_value(client: TestClient) -> None:
    errors, bg = failed(client, inplace_relu_doc())

    x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    loss = torch.relu_(torch.sigmoid(x)).sum()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    assert dagrad_form(bg, bg.roots[0].to) == torch_form(loss)  # relu's own result freed as it ran
    [sig] = [n for n in bg.nodes if n.name == "SigmoidBackward0"]
    assert [(s.name, s.state) for s in sig.saved] == [("result", "overwritten")]

    assert_errors_name_their_autograd_nodes(errors, bg, "overwritten")
    assert {e["node"]: e["autograd"] for e in errors} == {"s": ["SigmoidBackward0"], "r": None}


@pytest.mark.parametrize("make", [lambda: doc_of("tanh_net", backward_passes=2, retain_graph=False), inplace_relu_doc])
def test_not_asked_for_the_graph_the_run_is_refused_as_before(client: TestClient, make: Any) -> None:
    doc = make()
    plain = client.post("/api/evaluate", json=doc)
    assert plain.status_code == 422
    assert "backward_graph" not in plain.json()
    asked = client.post("/api/evaluate?backward_graph=true", json=doc)
    assert errors_of(asked) == errors_of(plain)  # the same errors, run or foreseen
    validated = client.post("/api/validate", json=doc)
    assert errors_of(validated) == errors_of(plain)


def test_the_cli_prints_the_graph_then_the_errors(tmp_path: Path) -> None:
    path = tmp_path / "inplace.json"
    path.write_text(json.dumps(inplace_relu_doc()))
    done = subprocess.run(
        [sys.executable, "-m", "dagrad", "eval", str(path), "--backward-graph"], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "SigmoidBackward0" in done.stdout
    assert "result=s [3] overwritten" in done.stdout
    assert "node 'r'" in done.stderr

"""Several backward passes (issue 12, part 4) against the same loop written in PyTorch: .grad
after every pass (leaves and the non-leaves retain_grad() would keep), zero_grad between passes,
retain_graph null, true or false, and the error PyTorch raises when a pass needs what the one
before freed, foreseen by validate and located on the nodes that saved it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1, errors_of, found_by_validate
from dagrad import examples
from dagrad.engine import Engine
from dagrad.graph_format import Graph
from dagrad.results import EvaluateResponse, PayloadOptions
from graph_builder import decode

POW3 = examples.load_all()["pow3_backward"].model_dump(mode="json", exclude_none=True)  # u = (x ** 3).sum()


def with_run(doc: dict[str, Any], **run: Any) -> Graph:
    return Graph.model_validate({**doc, "run": {**doc.get("run", {}), **run}})


def evaluate(graph: Graph) -> EvaluateResponse:
    return Engine().evaluate(graph, PayloadOptions(full=["*"]))


def torch_dag_4_1_passes(passes: int, zero_grad: bool, retain: bool | None) -> list[dict[str, torch.Tensor]]:
    """The 4.1 DAG's loop in PyTorch: every gradient after each pass."""
    torch.manual_seed(0)
    w1 = torch.rand(5, 5).requires_grad_()
    w2 = torch.rand(5, 5).requires_grad_()
    x = torch.empty(5).normal_()
    x1 = w1 @ x
    w2x1 = w2 @ x1
    x2 = x + w2x1
    s = x1 + x2
    x3 = w1 @ s
    q = x3.norm()
    kept = {"w1": w1, "w2": w2, "x1": x1, "w2x1": w2x1, "x2": x2, "s": s, "x3": x3, "q": q}
    for t in kept.values():
        if not t.is_leaf:
            t.retain_grad()
    after = []
    for i in range(passes):
        if zero_grad:
            for t in kept.values():
                t.grad = None
        q.backward(retain_graph=(i < passes - 1) if retain is None else retain)
        after.append({k: t.grad.clone() for k, t in kept.items() if t.grad is not None})
    return after


@pytest.mark.parametrize("passes", [2, 3])
@pytest.mark.parametrize("zero_grad", [False, True])
@pytest.mark.parametrize("retain", [None, True])
def test_every_gradient_after_every_pass_is_pytorchs(passes: int, zero_grad: bool, retain: bool | None) -> None:
    response = evaluate(with_run(DAG_4_1, backward_passes=passes, zero_grad=zero_grad, retain_graph=retain))
    expected = torch_dag_4_1_passes(passes, zero_grad, retain)
    for nid, node in response.nodes.items():
        if nid not in expected[-1]:
            assert node.grad_passes is None or all(p is None for p in node.grad_passes), nid
            continue
        assert node.grad_passes is not None, nid
        assert len(node.grad_passes) == passes, nid
        for k, payload in enumerate(node.grad_passes):
            assert payload is not None
            torch.testing.assert_close(
                decode(payload), expected[k][nid], msg=lambda m, k=k, nid=nid: f"{nid}, pass {k + 1}: {m}"
            )
        assert node.grad is not None
        torch.testing.assert_close(decode(node.grad), expected[-1][nid])
    # Each use's share of a shared gradient is zeroed with it: the shares still add up to the gradient.
    w1 = response.nodes["w1"]
    assert w1.contributions is not None
    assert w1.grad is not None
    total = sum(decode(c.grad) for c in w1.contributions if c.grad is not None)
    torch.testing.assert_close(total, decode(w1.grad))


def test_the_chapters_accumulation_numbers() -> None:
    """u = (x ** 3).sum() at x = (-3, 2, 5): .grad is (27, 12, 75), then (54, 24, 150), ..."""
    response = evaluate(with_run(POW3, backward_passes=3))
    passes = response.nodes["x"].grad_passes
    assert passes is not None
    assert [decode(p).tolist() for p in passes if p is not None] == [[27, 12, 75], [54, 24, 150], [81, 36, 225]]
    assert response.run.backward == "for i in range(3): u.backward(retain_graph=i < 2)"
    response = evaluate(with_run(POW3, backward_passes=2, zero_grad=True))
    passes = response.nodes["x"].grad_passes
    assert passes is not None
    assert [decode(p).tolist() for p in passes if p is not None] == [[27, 12, 75], [27, 12, 75]]
    assert response.run.backward == "for i in range(2): zero_grad(); u.backward(retain_graph=i < 1)"
    assert evaluate(with_run(POW3)).nodes["x"].grad_passes is None  # one pass: grad says it all


def test_a_second_pass_through_a_freed_graph_fails_as_in_pytorch(client: TestClient) -> None:
    x = torch.tensor([-3.0, 2.0, 5.0], requires_grad=True)
    u = x.pow(3).sum()
    u.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time") as raised:
        u.backward()
    assert "retain_graph=True" in str(raised.value)

    doc = with_run(POW3, backward_passes=2, retain_graph=False).model_dump(mode="json")
    response = client.post("/api/evaluate", json=doc)
    assert response.status_code == 422, response.text
    errors = {e["node"]: e["message"] for e in errors_of(response)}
    # On the loss, and on the node whose op saved what pass 1 freed: pow saved its input.
    assert set(errors) == {"u", "x_pow3"}
    assert "retain_graph" in errors["u"]
    assert "PowBackward0 (self)" in errors["x_pow3"]
    validated = client.post("/api/validate", json=doc)
    assert {e["node"]: e["message"] for e in found_by_validate(validated)} == errors  # foreseen, alike


def test_a_graph_that_saves_nothing_runs_twice_without_retain_graph_as_in_pytorch() -> None:
    doc = {
        "nodes": [
            {"id": "a", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "b", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "c", "op": "add", "inputs": {"input": "a", "other": "b"}},
            {"id": "q", "op": "sum", "inputs": {"input": "c"}},
        ],
    }
    a = torch.rand(3, requires_grad=True)
    q = (a + torch.rand(3)).sum()
    q.backward()
    q.backward()  # nothing was saved, so nothing is missing
    assert a.grad is not None
    response = evaluate(with_run(doc, output="q", backward_passes=2, retain_graph=False))
    assert response.nodes["a"].grad is not None
    torch.testing.assert_close(decode(response.nodes["a"].grad), a.grad)


def test_retain_graph_on_keeps_the_saved_tensors_after_the_last_pass() -> None:
    for retain, state in [(True, "kept"), (None, "freed")]:
        graph = with_run(POW3, backward_passes=2, retain_graph=retain)
        bg = Engine().evaluate(graph, PayloadOptions(backward_graph=True)).backward_graph
        assert bg is not None
        assert {s.state for n in bg.nodes for s in n.saved} == {state}


def test_a_document_from_before_means_the_same() -> None:
    """No retain_graph and no zero_grad: retained between passes, accumulated, as before."""
    doc = json.loads(json.dumps(POW3))
    doc["run"] = {"output": "u", "backward_passes": 2}
    run = Graph.model_validate(doc).run
    assert (run.retain_graph, run.zero_grad) == (None, False)
    assert [run.retains(i) for i in range(2)] == [True, False]

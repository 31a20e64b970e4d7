"""The REST API: endpoints, and bad input answered with located 4xx errors.

Values are checked against a hand-written PyTorch computation of the same graph.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1, torch_dag_4_1
from graph_builder import decode

# --- endpoints ------------------------------------------------------------------------------


def test_evaluate_dag_4_1_matches_pytorch(client: TestClient) -> None:
    response = client.post("/api/evaluate", json=DAG_4_1)
    assert response.status_code == 200
    body = response.json()
    expected = torch_dag_4_1()
    torch.testing.assert_close(decode(body["nodes"]["q"]["value"]), expected["q"])
    torch.testing.assert_close(decode(body["nodes"]["w1"]["grad"]), expected["w1.grad"])
    torch.testing.assert_close(decode(body["nodes"]["w2"]["grad"]), expected["w2.grad"])
    assert body["nodes"]["q"]["grad_fn"] == "LinalgVectorNormBackward0"
    assert body["nodes"]["w1"]["is_leaf"] is True
    assert body["nodes"]["x"]["grad"] is None
    assert "does not require grad" in body["nodes"]["x"]["grad_note"]
    assert body["run"]["backward"] == "q.backward()"


def test_evaluate_list_encoding_is_readable(client: TestClient) -> None:
    body = client.post("/api/evaluate?encoding=list", json=DAG_4_1).json()
    grad = body["nodes"]["w2"]["grad"]["data"]["values"]
    torch.testing.assert_close(torch.tensor(grad), torch_dag_4_1()["w2.grad"])


def test_shared_weight_contributions_sum_to_its_gradient(client: TestClient) -> None:
    body = client.post("/api/evaluate", json=DAG_4_1).json()
    w1 = body["nodes"]["w1"]
    uses = {(c["consumer"], c["port"]) for c in w1["contributions"]}
    assert uses == {("x1", "input"), ("x3", "input")}
    total = sum(decode(c["grad"]) for c in w1["contributions"])
    torch.testing.assert_close(total, torch_dag_4_1()["w1.grad"])
    assert body["nodes"]["w2"]["contributions"] is None


def test_stats_match_torch(client: TestClient) -> None:
    body = client.post("/api/evaluate", json=DAG_4_1).json()
    g = torch_dag_4_1()["w1.grad"]
    stats = body["nodes"]["w1"]["grad"]["stats"]
    assert stats["min"] == pytest.approx(g.min().item(), rel=1e-6)
    assert stats["max"] == pytest.approx(g.max().item(), rel=1e-6)
    assert stats["mean"] == pytest.approx(g.mean().item(), rel=1e-5)
    assert stats["std"] == pytest.approx(g.std().item(), rel=1e-5)
    assert stats["norm"] == pytest.approx(g.norm().item(), rel=1e-5)
    assert stats["nan"] == 0
    assert stats["inf"] == 0


def test_nan_and_inf_are_counted(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "x", "op": "constant", "attrs": {"init": "values", "values": [-1.0, 0.0, 4.0]}},
            {"id": "l", "op": "log", "inputs": {"input": "x"}},
        ]
    }
    body = client.post("/api/evaluate?encoding=list", json=graph).json()
    stats = body["nodes"]["l"]["value"]["stats"]
    assert (stats["nan"], stats["inf"]) == (1, 1)
    assert stats["mean"] is None
    assert body["nodes"]["l"]["value"]["data"]["values"][2] == pytest.approx(math.log(4.0))
    assert body["nodes"]["l"]["value"]["data"]["values"][:2] == [None, None]


def test_large_tensors_are_truncated_and_fetchable(client: TestClient, dag: dict[str, Any]) -> None:
    body = client.post("/api/evaluate?max_elements=10", json=dag).json()
    w1 = body["nodes"]["w1"]["value"]
    assert w1["truncated"] is True
    assert w1["data"] is None
    assert "full=w1" in w1["note"]
    assert body["nodes"]["x"]["value"]["truncated"] is False
    whole = client.post("/api/evaluate?max_elements=10&full=w1", json=dag).json()["nodes"]["w1"]["value"]
    assert whole["truncated"] is False
    torch.manual_seed(0)
    torch.testing.assert_close(decode(whole), torch.rand(5, 5))


def test_same_seed_same_numbers_other_seed_other_numbers(client: TestClient, dag: dict[str, Any]) -> None:
    a = client.post("/api/evaluate", json=dag).json()["nodes"]["q"]["value"]
    b = client.post("/api/evaluate", json=dag).json()["nodes"]["q"]["value"]
    dag["run"]["seed"] = 1
    c = client.post("/api/evaluate", json=dag).json()["nodes"]["q"]["value"]
    torch.testing.assert_close(decode(a), torch_dag_4_1(seed=0)["q"])
    torch.testing.assert_close(decode(b), torch_dag_4_1(seed=0)["q"])
    torch.testing.assert_close(decode(c), torch_dag_4_1(seed=1)["q"])
    assert a["data"] != c["data"]


def test_validate_returns_shapes_without_running(client: TestClient) -> None:
    response = client.post("/api/validate", json=DAG_4_1)
    assert response.status_code == 200
    body = response.json()
    assert body["nodes"]["x3"]["shape"] == [5]
    assert body["nodes"]["q"]["shape"] == []
    assert body["nodes"]["x"]["requires_grad"] is False
    assert body["nodes"]["x1"]["requires_grad"] is True
    # x feeds two ops too, but needs no gradient: only w1 and x1 sum the gradients of several uses
    assert body["shared"] == [
        {"id": "w1", "uses": [{"consumer": "x1", "port": "input"}, {"consumer": "x3", "port": "input"}]},
        {"id": "x1", "uses": [{"consumer": "w2x1", "port": "other"}, {"consumer": "s", "port": "input"}]},
    ]


def test_validate_answers_a_graph_with_errors_as_a_validation_that_found_them(client: TestClient) -> None:
    """The editor validates every half-built graph: a 422 for each was a failed request in the
    browser's console. A graph with errors is a 200, valid false, with the errors, and the shapes
    still known, that evaluate's 422 gives; a body that is no graph document is still refused."""
    half_built = copy.deepcopy(DAG_4_1)
    del half_built["nodes"][5]["inputs"]["other"]  # x2 = x + ?
    validated = client.post("/api/validate", json=half_built)
    evaluated = client.post("/api/evaluate", json=half_built)
    assert (validated.status_code, evaluated.status_code) == (200, 422)
    body, refused = validated.json(), evaluated.json()
    assert body["valid"] is False
    assert body["detail"] == refused["detail"] == "the graph has 1 error"
    assert body["errors"] == refused["errors"]
    assert [(e["node"], e["port"], e["code"]) for e in body["errors"]] == [("x2", "other", "missing_input")]
    assert body["nodes"] == refused["nodes"]
    assert body["nodes"]["x1"]["shape"] == [5]
    assert body["torch"]["x2"] == "torch.add(x, other)"  # the port not wired yet, by its name
    assert set(body) == {"valid", "detail", "errors", "nodes", "torch"}
    # no graph document at all: refused, by both
    assert client.post("/api/validate", content=b"{", headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/api/validate", json={"nodes": [{"id": "a"}]}).status_code == 422  # breaks the format


def test_ops_listing_is_enough_for_a_palette(client: TestClient) -> None:
    body = client.get("/api/ops").json()
    ops = {op["name"]: op for op in body["ops"]}
    assert body["categories"][0] == "sources"
    conv = ops["conv2d"]
    assert [p["name"] for p in conv["ports"]] == ["input", "weight", "bias"]
    assert conv["ports"][2]["optional"] is True
    assert set(conv["attrs_schema"]["properties"]) == {"stride", "padding", "dilation", "groups"}
    assert conv["attrs_schema"]["properties"]["groups"]["default"] == 1
    assert ops["cat"]["ports"][0]["variadic"] is True
    assert ops["parameter"]["source"] is True
    for name in [
        "add",
        "matmul",
        "dot",
        "relu",
        "softmax",
        "norm",
        "index",
        "linear",
        "max_pool2d",
        "cross_entropy",
        "grad",
        "detach",
    ]:
        assert name in ops


def test_examples_endpoints(client: TestClient) -> None:
    listing = client.get("/api/examples").json()
    assert listing, "the package ships the chapter's examples"
    name = listing[0]["name"]
    graph = client.get(f"/api/examples/{name}").json()
    assert client.post("/api/evaluate", json=graph).status_code == 200
    missing = client.get("/api/examples/no_such_example")
    assert missing.status_code == 404


def test_health_and_docs(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert "cpu" in health["devices"]
    assert health["limits"]["max_nodes"] > 0
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/evaluate" in schema["paths"]
    assert client.get("/api/schema/graph").json()["title"] == "Graph"


def test_run_again_gives_the_same_numbers_even_after_an_in_place_op(client: TestClient) -> None:
    # An in-place op on a source changes it in that run only.
    graph = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [4, 3]}},
            {"id": "r", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "x"}},
        ],
        "run": {"seed": 3},
    }
    torch.manual_seed(3)
    x = torch.randn(4, 3)
    for _ in range(3):
        body = client.post("/api/evaluate", json=graph).json()
        torch.testing.assert_close(decode(body["nodes"]["r"]["value"]), x.relu())
        # PyTorch's own semantics: x was overwritten by the in-place relu, in this run only.
        torch.testing.assert_close(decode(body["nodes"]["x"]["value"]), x.relu())
    graph["run"]["seed"] = 4
    torch.manual_seed(4)
    body = client.post("/api/evaluate", json=graph).json()
    torch.testing.assert_close(decode(body["nodes"]["r"]["value"]), torch.randn(4, 3).relu())

"""The REST API: endpoints, and bad input answered with located 4xx errors.

Values are checked against a hand-written PyTorch computation of the same graph.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1, make_client, node
from dagrad import payload
from dagrad.api.app import create_app


def torch_dag_4_1(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    w1 = torch.rand(5, 5).requires_grad_()
    w2 = torch.rand(5, 5).requires_grad_()
    x = torch.empty(5).normal_()
    x1 = w1 @ x
    x2 = x + w2 @ x1
    x3 = w1 @ (x1 + x2)
    q = x3.norm()
    q.backward()
    assert w1.grad is not None
    assert w2.grad is not None
    return {"q": q.detach(), "w1.grad": w1.grad, "w2.grad": w2.grad, "x": x}


def decode(payload: dict[str, Any]) -> torch.Tensor:
    data = payload["data"]
    if data["encoding"] == "list":
        return torch.tensor(data["values"], dtype=torch.float64)
    array = np.frombuffer(base64.b64decode(data["b64"]), dtype=np.dtype(data["dtype"]).newbyteorder("<"))
    return torch.from_numpy(array.copy()).reshape(payload["shape"])


def errors_of(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert isinstance(body["errors"], list)
    assert body["errors"], "an error response must name at least one error"
    return body["errors"]


# --- endpoints ------------------------------------------------------------------------------


@pytest.fixture(params=["event loop", "worker thread"], scope="module")
def either_client(request: pytest.FixtureRequest, client: TestClient) -> TestClient:
    """The default server compiles and runs a graph as small as the 4.1 DAG on its event loop;
    inline_max_nodes=0 sends every graph to a worker thread. Both must give PyTorch's numbers."""
    return client if request.param == "event loop" else make_client(inline_max_nodes=0)


def test_evaluate_dag_4_1_matches_pytorch(either_client: TestClient) -> None:
    response = either_client.post("/api/evaluate", json=DAG_4_1)
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
    assert body["nodes"]["l"]["value"]["data"]["values"][2] == pytest.approx(float(np.log(4.0)))
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
    a = client.post("/api/evaluate", json=dag).json()["nodes"]["q"]["value"]["data"]
    b = client.post("/api/evaluate", json=dag).json()["nodes"]["q"]["value"]["data"]
    dag["run"]["seed"] = 1
    c = client.post("/api/evaluate", json=dag).json()["nodes"]["q"]["value"]["data"]
    assert a == b
    assert a != c
    torch.testing.assert_close(decode({"data": c, "shape": []}), torch_dag_4_1(seed=1)["q"])


def test_validate_returns_shapes_without_running(either_client: TestClient) -> None:
    response = either_client.post("/api/validate", json=DAG_4_1)
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
    assert health["native_stats"] is payload.native()
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/evaluate" in schema["paths"]
    assert client.get("/api/schema/graph").json()["title"] == "Graph"


# --- bad input: each a 4xx naming the node, the port and the fix -----------------------------


def test_cycle_names_every_node_on_it(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "x1")["inputs"]["other"] = "x3"  # x3 depends on x1 through s (and through w2x1, x2)
    response = client.post("/api/validate", json=dag)
    assert response.status_code == 422
    cyclic = {e["node"] for e in errors_of(response) if e["code"] == "cycle"}
    assert cyclic == {"x1", "w2x1", "x2", "s", "x3"}
    message = errors_of(response)[0]["message"]
    assert "x1 -> s -> x3 -> x1" in message or "x1 -> w2x1 -> x2 -> s -> x3 -> x1" in message
    assert response.json()["nodes"]["w1"]["shape"] == [5, 5], "nodes off the cycle still get shapes"


def test_unknown_op_suggests_the_right_one(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "x1")["op"] = "matmull"
    response = client.post("/api/evaluate", json=dag)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["node"] == "x1"
    assert error["code"] == "unknown_op"
    assert "'matmul'" in error["message"]


def test_missing_input_names_the_port(client: TestClient, dag: dict[str, Any]) -> None:
    del node(dag, "x2")["inputs"]["other"]
    response = client.post("/api/validate", json=dag)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["port"], error["code"]) == ("x2", "other", "missing_input")


def test_extra_input_and_unknown_attribute(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "x2")["inputs"]["third"] = "x"
    node(dag, "q")["attrs"] = {"ord": 2}
    errors = errors_of(client.post("/api/validate", json=dag))
    by_node = {e["node"]: e for e in errors}
    assert by_node["x2"]["port"] == "third"
    assert "input, other" in by_node["x2"]["message"]
    assert by_node["q"]["attribute"] == "ord"
    assert "p, dim, keepdim" in by_node["q"]["message"] or "dim, keepdim, p" in by_node["q"]["message"]


def test_reference_to_a_missing_node(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "x3")["inputs"]["other"] = "nowhere"
    [error] = errors_of(client.post("/api/validate", json=dag))
    assert (error["node"], error["port"], error["code"]) == ("x3", "other", "unknown_node")


def test_shape_mismatch_names_shapes_and_fix(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "w2")["attrs"]["shape"] = [5, 4]
    response = client.post("/api/evaluate", json=dag)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["port"], error["code"]) == ("w2x1", "other", "shape")
    assert "[5, 4]" in error["message"]
    assert "(4)" in error["message"]
    assert "(5)" in error["message"]


def test_conv_channel_mismatch_says_which_channels(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [2, 3, 8, 8]}},
            {"id": "w", "op": "parameter", "attrs": {"shape": [5, 4, 3, 3]}},
            {"id": "conv", "op": "conv2d", "inputs": {"input": "x", "weight": "w"}},
        ]
    }
    [error] = errors_of(client.post("/api/validate", json=graph))
    assert (error["node"], error["port"]) == ("conv", "weight")
    assert "expects 4 input channels" in error["message"]
    assert "has 3 channels" in error["message"]


def test_every_error_is_reported_at_once(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "x1")["op"] = "nope"
    node(dag, "w2")["attrs"]["shape"] = [5, 4]
    node(dag, "q")["attrs"] = {"keepdim": "maybe"}
    errors = errors_of(client.post("/api/validate", json=dag))
    assert {e["node"] for e in errors} == {"x1", "q"}, "w2x1 depends on the broken x1, so it is skipped"
    node(dag, "x1")["op"] = "matmul"
    errors = errors_of(client.post("/api/validate", json=dag))
    assert {e["node"] for e in errors} == {"w2x1", "q"}


def test_integer_tensor_cannot_require_grad(client: TestClient) -> None:
    graph = {"nodes": [{"id": "k", "op": "parameter", "attrs": {"shape": [3], "dtype": "int64", "init": "zeros"}}]}
    response = client.post("/api/validate", json=graph)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["attribute"], error["code"]) == ("k", "requires_grad", "dtype")
    assert "floating point" in error["message"]


def test_huge_tensor_is_refused_in_milliseconds(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "w1")["attrs"]["shape"] = [10**6, 10**6]
    start = time.perf_counter()
    response = client.post("/api/evaluate", json=dag)
    elapsed = time.perf_counter() - start
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["code"]) == ("w1", "limit")
    assert "1,000,000,000,000 elements" in error["message"]
    assert elapsed < 2.0  # generous for a loaded CI machine; the point is that nothing is allocated


def test_huge_result_of_an_op_is_refused(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "a", "op": "input", "attrs": {"shape": [100000, 1]}},
            {"id": "b", "op": "input", "attrs": {"shape": [1, 100000]}},
            {"id": "outer", "op": "matmul", "inputs": {"input": "a", "other": "b"}},
        ]
    }
    [error] = errors_of(client.post("/api/evaluate", json=graph))
    assert (error["node"], error["code"]) == ("outer", "limit")


def test_run_memory_estimate_is_limited() -> None:
    small = make_client(max_run_bytes=1000)
    response = small.post("/api/evaluate", json=DAG_4_1)
    assert response.status_code == 200
    graph = {"nodes": [{"id": "big", "op": "input", "attrs": {"shape": [1000], "init": "zeros"}}]}
    response = small.post("/api/evaluate", json=graph)
    assert response.status_code == 422
    assert "MiB" in errors_of(response)[0]["message"]


def test_too_many_nodes() -> None:
    graph = {"nodes": [{"id": f"n{i}", "op": "input", "attrs": {"shape": [1]}} for i in range(11)]}
    response = make_client(max_nodes=10).post("/api/validate", json=graph)
    assert response.status_code == 422
    assert "11 nodes" in errors_of(response)[0]["message"]


def test_malformed_json_is_a_400(client: TestClient) -> None:
    response = client.post("/api/evaluate", content=b'{"nodes": [', headers={"content-type": "application/json"})
    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["code"] == "malformed"
    assert "not valid JSON" in error["message"]


def test_structurally_wrong_json_names_the_node(client: TestClient, dag: dict[str, Any]) -> None:
    del node(dag, "x2")["op"]
    response = client.post("/api/validate", json=dag)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["node"] == "x2"
    assert "op" in error["message"]


def test_oversized_body_is_a_413() -> None:
    small = make_client(max_body_bytes=2000)
    graph = {"nodes": [{"id": "v", "op": "constant", "attrs": {"init": "values", "values": [0.5] * 2000}}]}
    response = small.post(
        "/api/evaluate", content=json.dumps(graph).encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "at most 2,000" in errors_of(response)[0]["message"]

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        body = json.dumps(graph).encode()
        for i in range(0, len(body), 500):
            yield body[i : i + 500]

    response = small.post("/api/evaluate", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_cuda_without_a_gpu_is_a_located_422(client: TestClient, dag: dict[str, Any]) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    dag["run"]["device"] = "cuda"
    response = client.post("/api/evaluate", json=dag)
    assert response.status_code == 422
    assert errors_of(response)[0]["code"] == "device"


def test_non_scalar_output_needs_a_choice(client: TestClient, dag: dict[str, Any]) -> None:
    dag["run"]["output"] = "x3"
    [error] = errors_of(client.post("/api/validate", json=dag))
    assert error["node"] == "x3"
    assert "'sum'" in error["message"]
    assert "'ones'" in error["message"]
    dag["run"]["grad_output"] = "ones"
    body = client.post("/api/evaluate", json=dag).json()
    assert body["run"]["backward"] == "x3.backward(torch.ones_like(x3))"


def test_output_that_needs_no_grad_is_explained(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [3]}},
            {"id": "s", "op": "sum", "inputs": {"input": "x"}},
        ],
        "run": {"output": "s"},
    }
    [error] = errors_of(client.post("/api/validate", json=graph))
    assert error["node"] == "s"
    assert "requires_grad" in error["message"]


def test_inplace_on_a_leaf_is_located(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "w", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "r", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "w"}},
        ]
    }
    [error] = errors_of(client.post("/api/evaluate", json=graph))
    assert error["node"] == "r"
    assert "leaf" in error["message"]


def test_inplace_overwrite_needed_by_backward_blames_the_saving_node(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "w", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "e", "op": "exp", "inputs": {"input": "w"}},
            {"id": "r", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "e"}},
            {"id": "s", "op": "sum", "inputs": {"input": "r"}},
        ],
        "run": {"output": "s"},
    }
    response = client.post("/api/evaluate", json=graph)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["node"] == "e"
    assert "inplace" in error["message"]
    # PyTorch, by hand, refuses the same graph:
    w = torch.randn(3, requires_grad=True)
    e = w.exp()
    torch.relu_(e)
    with pytest.raises(RuntimeError, match="inplace"):
        e.sum().backward()


def test_class_targets_out_of_range_are_refused_before_the_kernel(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "logits", "op": "parameter", "attrs": {"shape": [3, 4]}},
            {"id": "labels", "op": "constant", "attrs": {"init": "values", "dtype": "int64", "values": [0, 7, 2]}},
            {"id": "loss", "op": "cross_entropy", "inputs": {"input": "logits", "target": "labels"}},
        ],
        "run": {"output": "loss"},
    }
    response = client.post("/api/evaluate", json=graph)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["port"]) == ("loss", "target")
    assert "class 7" in error["message"]
    assert "4 classes" in error["message"]
    graph["nodes"][1]["attrs"]["values"] = [0, -1, 2]
    [error] = errors_of(client.post("/api/evaluate", json=graph))
    assert "class -1" in error["message"]
    graph["nodes"][1]["attrs"]["values"] = [0, -100, 2]  # ignore_index is allowed
    assert client.post("/api/evaluate", json=graph).status_code == 200


def test_run_time_limit_stops_the_run_at_a_node() -> None:
    response = make_client(max_run_seconds=0).post("/api/evaluate", json=DAG_4_1)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["code"] == "limit"
    assert error["node"] == "w1"
    assert "time limit" in error["message"]


def test_work_estimate_is_limited() -> None:
    response = make_client(max_flops=10).post("/api/validate", json=DAG_4_1)
    assert response.status_code == 422
    assert "floating point operations" in errors_of(response)[0]["message"]


def test_a_busy_server_answers_503_instead_of_running_out_of_memory() -> None:
    from dagrad.admission import run_slot
    from dagrad.settings import Settings

    settings = Settings(max_concurrent_runs=1, queue_seconds=0)
    busy = TestClient(create_app(settings))
    with run_slot(settings):  # another student's run holds the only slot
        response = busy.post("/api/evaluate", json=DAG_4_1)
        assert response.status_code == 503
        assert "busy" in errors_of(response)[0]["message"]
        assert busy.post("/api/validate", json=DAG_4_1).status_code == 200, "validation allocates nothing"
    assert busy.post("/api/evaluate", json=DAG_4_1).status_code == 200


def test_run_again_gives_the_same_numbers_even_after_an_in_place_op(client: TestClient) -> None:
    # Drawn sources are cached between runs; an in-place op on one must not reach the cache.
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


def test_evaluate_if_small_runs_only_small_cheap_graphs_with_a_free_slot() -> None:
    from dagrad import engine
    from dagrad.admission import run_slot
    from dagrad.graph_format import Graph
    from dagrad.results import PayloadOptions
    from dagrad.settings import Settings

    graph, options = Graph.model_validate(DAG_4_1), PayloadOptions()
    settings = Settings(max_concurrent_runs=1)
    ran = engine.evaluate_if_small(graph, options, settings)
    assert ran is not None
    expected = torch_dag_4_1()
    torch.testing.assert_close(decode(ran.nodes["q"].value.model_dump()), expected["q"])
    w1_grad = ran.nodes["w1"].grad
    assert w1_grad is not None
    torch.testing.assert_close(decode(w1_grad.model_dump()), expected["w1.grad"])
    assert engine.evaluate_if_small(graph, options, Settings(inline_max_nodes=len(graph.nodes) - 1)) is None
    assert engine.evaluate_if_small(graph, options, Settings(inline_max_flops=10)) is None
    with run_slot(settings):  # no free slot: it must not wait on the event loop
        assert engine.evaluate_if_small(graph, options, settings) is None

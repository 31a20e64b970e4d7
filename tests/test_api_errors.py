"""The REST API's answers to bad input: each a 4xx in the documented format, naming the node, the
port and the fix; limits checked before anything is allocated."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1, MakeClient, errors_of, found_by_validate, node

# --- bad input: each a 4xx naming the node, the port and the fix -----------------------------


def test_cycle_names_every_node_on_it(client: TestClient, dag: dict[str, Any]) -> None:
    node(dag, "x1")["inputs"]["other"] = "x3"  # x3 depends on x1 through s (and through w2x1, x2)
    response = client.post("/api/validate", json=dag)
    found_by_validate(response)
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
    found_by_validate(response)
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
    found_by_validate(response)
    [error] = errors_of(response)
    assert (error["node"], error["attribute"], error["code"]) == ("k", "requires_grad", "dtype")
    assert "floating point" in error["message"]


def test_huge_tensor_is_refused_before_anything_is_allocated(client: TestClient, dag: dict[str, Any]) -> None:
    # 10^12 float32 elements would be 4 TB: answered at all, this was refused before allocating.
    node(dag, "w1")["attrs"]["shape"] = [10**6, 10**6]
    response = client.post("/api/evaluate", json=dag)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["code"]) == ("w1", "limit")
    assert "1,000,000,000,000 elements" in error["message"]


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


def test_run_memory_estimate_is_limited(make_client: MakeClient) -> None:
    small = make_client(max_run_bytes=1000)
    response = small.post("/api/evaluate", json=DAG_4_1)
    assert response.status_code == 200
    graph = {"nodes": [{"id": "big", "op": "input", "attrs": {"shape": [1000], "init": "zeros"}}]}
    response = small.post("/api/evaluate", json=graph)
    assert response.status_code == 422
    assert "MiB" in errors_of(response)[0]["message"]


def test_too_many_nodes(make_client: MakeClient) -> None:
    graph = {"nodes": [{"id": f"n{i}", "op": "input", "attrs": {"shape": [1]}} for i in range(11)]}
    response = make_client(max_nodes=10).post("/api/validate", json=graph)
    found_by_validate(response)
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
    assert response.status_code == 422  # not a graph document: refused, as evaluate refuses it
    [error] = errors_of(response)
    assert error["node"] == "x2"
    assert "op" in error["message"]


def test_oversized_body_is_a_413(make_client: MakeClient) -> None:
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


def test_inplace_overwrite_needed_by_backward_is_said_on_both_nodes(client: TestClient) -> None:
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
    # PyTorch, by hand, refuses the same graph, naming the value's versions:
    w = torch.randn(3, requires_grad=True)
    e = w.exp()
    torch.relu_(e)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        e.sum().backward()
    # dagrad says it on the node whose value exp saved and on the in-place node that overwrote it.
    errors = {e["node"]: e["message"] for e in errors_of(response)}
    assert set(errors) == {"e", "r"}
    assert "ExpBackward0 (result) of e saved it (version 0)" in errors["e"]
    assert "overwritten in place by r (now version 1)" in errors["e"]
    assert "overwrote the value of e" in errors["r"]
    assert "turn inplace off here" in errors["r"]
    assert not any("anomaly" in m for m in errors.values())  # PyTorch's hint is for its own users


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


def test_run_time_limit_stops_the_run_at_a_node(make_client: MakeClient) -> None:
    response = make_client(max_run_seconds=1e-9).post("/api/evaluate", json=DAG_4_1)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["code"] == "limit"
    assert error["node"] == "w1"
    assert "time limit" in error["message"]


def test_work_estimate_is_limited(make_client: MakeClient) -> None:
    response = make_client(max_flops=10).post("/api/validate", json=DAG_4_1)
    found_by_validate(response)
    assert "floating point operations" in errors_of(response)[0]["message"]

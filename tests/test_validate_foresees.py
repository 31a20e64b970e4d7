"""Validation refuses what the run would refuse, before anything runs, located on the node and its
attribute or port, saying what would fix it: a source whose init cannot fill its dtype, values an
op refuses when a source gives them (class indices, probabilities). Only values computed by other
ops are left to the run, which refuses them in the same terms (code 'value')."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import MakeClient, errors_of, found_by_validate, post_json
from dagrad.api.app import create_app
from dagrad.settings import Settings


def source(nid: str = "x", op: str = "input", **attrs: Any) -> dict[str, Any]:
    return {"id": nid, "op": op, "attrs": {"shape": [3], **attrs}}


def refused_before_running(client: TestClient, graph: dict[str, Any]) -> dict[str, Any]:
    validated, evaluated = post_json(client, "/api/validate", graph), post_json(client, "/api/evaluate", graph)
    assert evaluated.status_code == 422, evaluated.text
    assert found_by_validate(validated) == errors_of(evaluated), "evaluate refuses as validate finds, before running"
    [error] = errors_of(validated)
    return error


# --- a source's init and its dtype -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "attribute", "says"),
    [
        ({"dtype": "int64"}, "init", "set dtype to float32 or float64"),  # 'normal' is the default init
        ({"dtype": "bool", "init": "normal"}, "init", "'uniform' with low 0 and high 2"),
        ({"dtype": "int64", "init": "uniform", "low": 0.5, "high": 0.7}, "high", "int(low) < int(high)"),
        ({"dtype": "int64", "init": "uniform", "low": -1e30, "high": 1e30}, "low", "must lie in"),
        ({"dtype": "int64", "init": "uniform", "high": 2**63}, "high", "must lie in"),
        ({"dtype": "bool", "init": "uniform", "high": 3}, "high", "must lie in [0, 2]"),
        ({"init": "uniform", "high": math.inf}, "high", "finite low and high"),
        ({"dtype": "float32", "init": "uniform", "low": -3e38, "high": 3e38}, "high", "narrow it"),
        ({"dtype": "int64", "init": "full", "value": 1e30}, "value", "does not fit in int64"),
        ({"dtype": "int64", "init": "full", "value": math.nan}, "value", "does not fit in int64"),
        ({"dtype": "float32", "init": "full", "value": 1e39}, "value", "use float64"),
        ({"dtype": "int64", "init": "arange", "start": 9e18, "step": 1e18}, "step", "int64 cannot hold"),
        ({"dtype": "int64", "init": "values", "values": [1e30, 1.0, 2.0]}, "values", "int64 cannot hold"),
        ({"init": "values", "values": [10**400, 1, 2]}, "values", "use smaller numbers"),
    ],
)
def test_a_source_its_init_cannot_fill_is_refused_by_validate(
    client: TestClient, attrs: dict[str, Any], attribute: str, says: str
) -> None:
    graph = {"nodes": [source(**attrs)]}
    if attrs.get("init") == "values":
        del graph["nodes"][0]["attrs"]["shape"]  # the literal's own
    error = refused_before_running(client, graph)
    assert (error["node"], error["attribute"], error["code"]) == ("x", attribute, "bad_attribute")
    assert says in error["message"]


@pytest.mark.parametrize(
    "attrs",
    [
        {"dtype": "bool", "init": "uniform", "high": 2},  # random true/false
        {"dtype": "bool", "init": "arange"},  # (start + step * arange).to(bool), as documented
        {"dtype": "int64", "init": "uniform", "low": -(2**63), "high": 2**62},  # high is a float: 2**63 - 1 is 2**63
        {"dtype": "int64", "init": "full", "value": -(2**63)},
        {"dtype": "float32", "init": "full", "value": math.inf},
        {"init": "normal", "mean": math.nan},  # NaN values are reported, not refused
    ],
)
def test_what_an_init_can_fill_validates_and_runs(client: TestClient, attrs: dict[str, Any]) -> None:
    graph = {"nodes": [source(**attrs)]}
    assert post_json(client, "/api/validate", graph).status_code == 200
    assert post_json(client, "/api/evaluate", graph).status_code == 200


def test_normal_on_an_empty_integer_tensor_is_refused_all_the_same(client: TestClient) -> None:
    # PyTorch draws nothing for an empty tensor, so it would not complain; the graph is wrong anyway.
    error = refused_before_running(client, {"nodes": [source(dtype="int64", shape=[0])]})
    assert error["attribute"] == "init"


# --- class indices and probabilities, known before the run --------------------------------------------


def classes(target: dict[str, Any], op: str = "cross_entropy", **attrs: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "logits", "op": "parameter", "attrs": {"shape": [3, 4]}},
            {"id": "labels", "op": "constant", "attrs": {"dtype": "int64", **target}},
            {"id": "loss", "op": op, "attrs": attrs, "inputs": {"input": "logits", "target": "labels"}},
        ],
        "run": {"output": "loss"},
    }


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize(
    ("target", "says"),
    [
        ({"init": "values", "values": [0, 7, 2]}, "class 7"),
        ({"init": "values", "values": [0, -1, 2]}, "class -1"),
        ({"init": "full", "shape": [3], "value": 4}, "class 4"),
        ({"init": "uniform", "shape": [3], "low": 0, "high": 10}, "classes 0 to 9"),
        ({"init": "arange", "shape": [3], "start": 2}, "classes 2 to 4"),
    ],
)
def test_class_targets_out_of_range_are_refused_by_validate(
    client: TestClient, op: str, target: dict[str, Any], says: str
) -> None:
    error = refused_before_running(client, classes(target, op))
    assert (error["node"], error["port"], error["code"]) == ("loss", "target", "value")
    assert says in error["message"]
    assert "4 classes" in error["message"]


@pytest.mark.parametrize(
    ("target", "attrs"),
    [
        ({"init": "values", "values": [0, -100, 3]}, {}),  # -100 is the default ignore_index
        ({"init": "values", "values": [0, 9, 3]}, {"ignore_index": 9}),
        ({"init": "uniform", "shape": [3], "low": 0, "high": 4}, {}),
        ({"init": "uniform", "shape": [3], "low": -1, "high": 4}, {"ignore_index": -1}),
        ({"init": "arange", "shape": [3], "start": 1}, {}),
    ],
)
def test_class_targets_in_range_validate_and_run(client: TestClient, target: dict[str, Any], attrs: Any) -> None:
    graph = classes(target, **attrs)
    assert client.post("/api/validate", json=graph).status_code == 200
    assert client.post("/api/evaluate", json=graph).status_code == 200


def test_class_targets_computed_by_an_op_are_checked_when_the_run_makes_them(client: TestClient) -> None:
    graph = classes({"init": "values", "values": [0, 2, 3]})
    graph["nodes"].insert(2, {"id": "shifted", "op": "add", "inputs": {"input": "labels", "other": "labels"}})
    graph["nodes"][3]["inputs"]["target"] = "shifted"
    assert client.post("/api/validate", json=graph).status_code == 200, "a compile cannot know [0, 4, 6]"
    response = client.post("/api/evaluate", json=graph)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["port"], error["code"]) == ("loss", "target", "value")
    assert "class 4" in error["message"]


def bce(input: dict[str, Any], target: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "p", "op": "parameter", "attrs": {"shape": [3], **input}},
            {"id": "y", "op": "constant", "attrs": {"shape": [3], **(target or {"value": 1.0})}},
            {"id": "loss", "op": "binary_cross_entropy", "inputs": {"input": "p", "target": "y"}},
        ],
        "run": {"output": "loss"},
    }


@pytest.mark.parametrize(
    ("graph", "port", "says"),
    [
        (bce({}), "input", "lie between -inf and inf"),  # a normal draw
        (bce({"init": "uniform", "low": 0.5, "high": 2.0}), "input", "lie between 0.5 and 2"),
        (bce({"init": "full", "value": math.nan}), "input", "may be NaN"),
        (bce({"init": "uniform"}, {"value": 2.0}), "target", "lie between 2 and 2"),
    ],
)
def test_probabilities_outside_0_1_from_a_source_are_refused_by_validate(
    client: TestClient, graph: dict[str, Any], port: str, says: str
) -> None:
    error = refused_before_running(client, graph)
    assert (error["node"], error["port"], error["code"]) == ("loss", port, "value")
    assert says in error["message"]
    assert "[0, 1]" in error["message"]


def test_probabilities_computed_by_an_op_are_checked_when_the_run_makes_them(client: TestClient) -> None:
    graph = bce({"init": "uniform"})
    graph["nodes"].insert(2, {"id": "twice", "op": "mul", "inputs": {"input": "p", "other": "y"}})
    graph["nodes"][1]["attrs"]["value"] = 3.0
    graph["nodes"][3]["inputs"] = {"input": "twice", "target": "p"}
    assert client.post("/api/validate", json=graph).status_code == 200
    response = client.post("/api/evaluate", json=graph)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["port"], error["code"]) == ("loss", "input", "value")
    sigmoid = bce({})
    sigmoid["nodes"].insert(1, {"id": "s", "op": "sigmoid", "inputs": {"input": "p"}})
    sigmoid["nodes"][3]["inputs"]["input"] = "s"
    assert client.post("/api/evaluate", json=sigmoid).status_code == 200


def test_an_inplace_op_overwriting_what_backward_needs_is_refused_by_validate(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "w", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "e", "op": "exp", "inputs": {"input": "w"}},
            {"id": "r", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "e"}},
            {"id": "s", "op": "sum", "inputs": {"input": "r"}},
        ],
        "run": {"output": "s"},
    }
    validated, evaluated = post_json(client, "/api/validate", graph), post_json(client, "/api/evaluate", graph)
    assert evaluated.status_code == 422, evaluated.text
    assert found_by_validate(validated) == errors_of(evaluated), "evaluate refuses as validate finds, before running"
    errors = {e["node"]: e for e in errors_of(validated)}
    assert set(errors) == {"e", "r"}, "exp saved its result, which relu_ overwrote"
    assert {e["code"] for e in errors.values()} == {"runtime"}
    assert "Turn inplace off on r" in errors["e"]["message"]
    graph["nodes"][1]["op"] = "neg"  # saves nothing: the same in-place relu is fine
    assert client.post("/api/evaluate", json=graph).status_code == 200


# --- run settings and server limits ----------------------------------------------------------------------


def test_an_empty_wrt_is_refused_before_backward(client: TestClient, dag: dict[str, Any]) -> None:
    dag["run"]["wrt"] = []
    error = refused_before_running(client, dag)
    assert (error["node"], error["code"]) == (None, "run")
    assert "null" in error["message"]


def test_a_server_with_limits_smaller_than_an_example_still_starts(make_client: MakeClient) -> None:
    # The warm-up validates every example; one over the limits used to stop the server starting.
    with TestClient(create_app(Settings(max_tensor_elements=1000, max_concurrent_runs=1, spare_workers=0))) as small:
        assert small.get("/api/health").status_code == 200
        assert small.post("/api/validate", json={"nodes": [source()]}).status_code == 200
    assert make_client(max_tensor_elements=1000).get("/api/examples").status_code == 200

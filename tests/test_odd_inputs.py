"""What a careless or curious student may send, each answered in the documented format: a 4xx whose
body is an ErrorResponse, its errors located on the node, port or attribute, saying what to change.
(Issue 11: every input a documented answer.) What validation foresees of a run: test_validate_foresees.py."""

from __future__ import annotations

import json
import mmap
import pickle
import socket
import threading
from multiprocessing.connection import Connection
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import MakeClient, errors_of, found_by_validate, post_json
from dagrad.api import worker_main
from dagrad.api.app import create_app
from dagrad.engine import Engine
from dagrad.results import ErrorResponse
from dagrad.settings import Settings


def source(nid: str = "x", **attrs: Any) -> dict[str, Any]:
    return {"id": nid, "op": "input", "attrs": {"shape": [2], **attrs}}


def refused_alike(client: TestClient, graph: Any) -> dict[str, Any]:
    """The one error validate and evaluate both answer, before anything runs."""
    answers = [post_json(client, path, graph) for path in ("/api/validate", "/api/evaluate")]
    assert answers[1].status_code == 422, answers[1].text
    assert answers[0].content.isascii()
    assert found_by_validate(answers[0]) == errors_of(answers[1])
    [error] = errors_of(answers[0])
    return error


# --- text that is not text: an unpaired UTF-16 surrogate ------------------------------------------

S = "\ud800"
RELU = {"id": "r", "op": "relu", "inputs": {"input": "x"}}


@pytest.mark.parametrize(
    ("graph", "where"),
    [
        ({"nodes": [source(S)]}, {"node": S, "attribute": "id"}),
        ({"nodes": [source(), {**RELU, "op": S}]}, {"node": "r"}),
        ({"nodes": [source(), {**RELU, "inputs": {S: "x"}}]}, {"node": "r", "port": S}),
        ({"nodes": [source(), {**RELU, "inputs": {"input": "x" + S}}]}, {"node": "r", "port": "input"}),
        ({"nodes": [{**source(), "label": S}]}, {"node": "x"}),
        ({"nodes": [{"id": "x", "op": "input", "attrs": {"shape": [2], S: 1}}]}, {"node": "x", "attribute": S}),
        ({"nodes": [source(dtype="float" + S)]}, {"node": "x", "attribute": "dtype"}),
        ({"nodes": [source()], "title": S}, {"node": None}),
        ({"nodes": [source()], "run": {"wrt": [S]}}, {"node": None}),
    ],
    ids=["id", "op", "port", "reference", "label", "attribute-name", "attribute-value", "title", "wrt"],
)
def test_an_unpaired_surrogate_is_refused_where_it_is(
    client: TestClient, graph: dict[str, Any], where: dict[str, Any]
) -> None:
    for path in ("/api/validate", "/api/evaluate"):
        response = post_json(client, path, graph)
        if path == "/api/evaluate" or where.get("attribute") == "id":
            # an id is checked by the format's schema: that is no graph document, refused by both
            assert response.status_code == 422, response.text
        else:  # found by checking the document: validate's answer is a 200, valid false
            found_by_validate(response)
        assert response.content.isascii(), "quoted back as \\ud800, which JSON can carry and UTF-8 cannot"
        error = next(e for e in errors_of(response) if "surrogate" in e["message"])
        assert error["code"] == "malformed"
        assert {k: error[k] for k in where} == where
        assert "\\ud800" in error["message"]
        assert "Remove it" in error["message"] or "surrogate" in error["message"]


# --- shapes: sizes PyTorch cannot take, and more dimensions than NumPy encodes ------------------------


def test_a_size_past_int64_in_an_empty_shape(client: TestClient) -> None:
    error = refused_alike(client, {"nodes": [source(shape=[0, 2**63])]})
    assert (error["node"], error["attribute"], error["code"]) == ("x", "shape", "bad_attribute")
    assert "2**63 - 1" in error["message"]


def test_an_empty_shape_whose_other_sizes_overflow(client: TestClient) -> None:
    error = refused_alike(client, {"nodes": [source(shape=[0, 2**62, 2**62])]})
    assert (error["node"], error["attribute"], error["code"]) == ("x", "shape", "limit")
    assert "empty, but its other sizes multiply to" in error["message"]
    assert "Use smaller sizes" in error["message"]


def test_65_dimensions_are_refused_on_a_source(client: TestClient) -> None:
    error = refused_alike(client, {"nodes": [source(shape=[1] * 65)]})
    assert (error["node"], error["attribute"]) == ("x", "shape")
    assert "65 dimensions" in error["message"]
    assert "64" in error["message"]


def test_a_reshape_to_65_dimensions_is_refused_before_it_runs(client: TestClient) -> None:
    graph = {
        "nodes": [
            source(shape=[1]),
            {"id": "r", "op": "reshape", "attrs": {"shape": [1] * 65}, "inputs": {"input": "x"}},
        ]
    }
    error = refused_alike(client, graph)
    assert (error["node"], error["code"]) == ("r", "limit")
    assert "65 dimensions" in error["message"]


def test_64_dimensions_run_and_are_encoded(client: TestClient) -> None:
    graph = {"nodes": [source(shape=[1] * 64), {"id": "r", "op": "relu", "inputs": {"input": "x"}}]}
    for encoding in ("base64", "list"):
        response = client.post(f"/api/evaluate?encoding={encoding}", json=graph)
        assert response.status_code == 200, response.text
        assert response.json()["nodes"]["r"]["shape"] == [1] * 64


# --- literals (init 'values'): bounded depth, one pass, messages on the attribute -------------------


def nested(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


def literal(values: Any, **attrs: Any) -> dict[str, Any]:
    return {"nodes": [{"id": "v", "op": "constant", "attrs": {"init": "values", "values": values, **attrs}}]}


@pytest.mark.parametrize("depth", [65, 500])
def test_a_literal_nested_past_64_is_refused_before_it_is_walked(client: TestClient, depth: int) -> None:
    error = refused_alike(client, literal(nested(depth)))
    assert (error["node"], error["attribute"], error["code"]) == ("v", "values", "bad_attribute")
    assert "nested more than 64 deep" in error["message"]


def test_a_literal_nested_deep_behind_its_first_element(client: TestClient) -> None:
    error = refused_alike(client, literal([[1.0], nested(300)]))
    assert error["attribute"] == "values"
    assert "ragged" in error["message"]


def test_a_literal_64_deep_runs(client: TestClient) -> None:
    response = client.post("/api/evaluate?encoding=list", json=literal(nested(64)))
    assert response.status_code == 200, response.text
    assert response.json()["nodes"]["v"]["value"]["data"]["values"] == nested(64)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ([[1.0, 2.0], [3.0]], "ragged"),
        ([1.0, [2.0]], "ragged"),
        ([1.0, None], "found null"),
        (["1.5"], "found text"),
        ([{"a": 1}], "found an object"),
    ],
)
def test_a_literal_that_is_no_tensor_says_why(client: TestClient, values: Any, says: str) -> None:
    error = refused_alike(client, literal(values))
    assert (error["node"], error["attribute"]) == ("v", "values")
    assert says in error["message"]


def test_a_literal_that_does_not_fit_its_shape_says_so(client: TestClient) -> None:
    error = refused_alike(client, literal([1.0, 2.0], shape=[3]))
    assert (error["node"], error["attribute"]) == ("v", "shape")
    assert "drop shape" in error["message"]


def test_a_literal_of_two_million_numbers_validates_within_the_time_limit(make_client: MakeClient) -> None:
    # Walked element by element in Python, twice, this took about 8 s: past this server's limit.
    client = make_client(max_body_bytes=64 * 2**20, max_run_seconds=4)
    body = json.dumps(literal([[0.5] * 1000] * 2000)).encode()
    response = client.post("/api/validate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["nodes"]["v"]["shape"] == [2000, 1000]


# --- bodies that are not JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"nodes": [\xff]}', "not valid UTF-8 (byte 0xff at position 11)"),
        (b"[" * 2000 + b"]" * 2000, "nests arrays and objects too deeply"),
        (b'{"nodes": [', "not valid JSON"),
    ],
    ids=["invalid-utf8", "nested-2000-deep", "truncated"],
)
def test_a_body_that_cannot_be_parsed_is_a_located_400(client: TestClient, body: bytes, says: str) -> None:
    for path in ("/api/validate", "/api/evaluate"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400
        ErrorResponse.model_validate(response.json())
        [error] = errors_of(response)
        assert error["code"] == "malformed"
        assert says in error["message"]


def test_numbers_of_the_document_are_the_types_its_schema_says(client: TestClient) -> None:
    graph: dict[str, Any] = {"nodes": [source()], "run": {"seed": "5"}, "layout": {"x": {"x": 0, "y": False}}}
    response = client.post("/api/validate", json=graph)
    assert response.status_code == 422  # not a graph document: nothing to check
    assert {e["message"].split(":")[0] for e in errors_of(response)} == {"run.seed", "layout.x.y"}


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("full=a&full=b", "full: is given 2 times"),
        ("max_elements=2.0", "whole number"),
        ("encoding=list&encoding=list", "once"),
    ],
)
def test_query_parameters_are_what_the_schema_says(client: TestClient, query: str, says: str) -> None:
    # FastAPI alone took the last of several, and 2.0 for 2 (found by test_fuzz_api.py).
    response = client.post(f"/api/evaluate?{query}", json={"nodes": [source()]})
    assert response.status_code == 422
    [error] = errors_of(response)
    assert says in error["message"]


def test_a_body_sent_as_text_is_told_to_be_json(client: TestClient) -> None:
    response = client.post("/api/validate", content=b'{"nodes": []}', headers={"content-type": "text/plain"})
    assert response.status_code == 422  # no graph document was sent to check
    assert "Content-Type: application/json" in errors_of(response)[0]["message"]


# --- every status a route answers is in its OpenAPI responses, every error body an ErrorResponse ------


def test_every_route_documents_its_error_answers(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    error_ref = "#/components/schemas/ErrorResponse"
    expected = {
        ("get", "/api/examples/{name}"): {"404", "413", "422", "500"},
        ("post", "/api/validate"): {"400", "413", "422", "500"},
        ("post", "/api/evaluate"): {"400", "413", "422", "500", "503"},
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if not code.startswith("2")}
            assert expected.get((method, path), {"413", "500"}) <= set(errors), (method, path)
            for code, answer in errors.items():
                assert answer["content"]["application/json"]["schema"] == {"$ref": error_ref}, (method, path, code)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    # validate's answer about a graph with errors is a 200, told apart by `valid`
    answered = schema["paths"]["/api/validate"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {r["$ref"] for r in answered["anyOf"]} == {
        "#/components/schemas/ValidateResponse",
        "#/components/schemas/InvalidGraph",
    }


def test_an_unknown_example_is_a_404_in_the_documented_format(client: TestClient) -> None:
    response = client.get("/api/examples/no_such_example")
    assert response.status_code == 404
    [error] = ErrorResponse.model_validate(response.json()).errors
    assert error.code == "not_found"
    assert "GET /api/examples lists them" in error.message


def test_a_wrong_method_and_an_unknown_path_answer_in_the_format(client: TestClient) -> None:
    for response in (client.put("/api/validate", json={}), client.get("/api/nowhere")):
        assert response.status_code in (404, 405)
        ErrorResponse.model_validate(response.json())
        assert errors_of(response)
    assert "POST" in client.put("/api/validate", json={}).headers["allow"]


def test_a_bug_in_the_server_is_a_500_in_the_documented_format(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Settings(max_concurrent_runs=1, spare_workers=0))

    async def broken(*args: Any, **kwargs: Any) -> Any:
        return 1 / 0

    monkeypatch.setattr(app.state.pool, "run", broken)
    response = TestClient(app, raise_server_exceptions=False).post("/api/validate", json={"nodes": [source()]})
    assert response.status_code == 500
    [error] = ErrorResponse.model_validate(response.json()).errors
    assert "ZeroDivisionError" in error.message
    assert "bug" in error.message


def test_a_bug_in_a_worker_is_a_500_in_the_documented_format() -> None:
    class Broken(Engine):
        def validate(self, graph: Any) -> Any:
            return 1 / 0

    ours, theirs = socket.socketpair()
    where = mmap.mmap(-1, worker_main.WHERE_BYTES)
    worker = threading.Thread(target=worker_main.serve, args=(Connection(theirs.detach()), Broken(), where))
    worker.start()
    conn = Connection(ours.detach())
    conn.send_bytes(pickle.dumps(("validate", json.dumps({"nodes": [source()]}).encode(), None)))
    status, body = pickle.loads(conn.recv_bytes())
    conn.close()  # the worker ends when the server closes its socket
    worker.join(5)
    assert status == 500
    [error] = ErrorResponse.model_validate_json(body).errors
    assert "ZeroDivisionError" in error.message
    assert "bug" in error.message.lower() or "report" in error.message

"""Fuzzing the engine through the API with graphs built from the registry's real ops (graph_fuzz.py).

Each graph is posted to /api/validate and to /api/evaluate, under small limits so that no run can
take long. Whatever the graph:
- no answer is a 5xx, and every error answer is an ErrorResponse with at least one error, whose
  node ids (where set) are nodes of the graph;
- evaluate compiles exactly as validate does: a graph validate finds errors in (a 200, valid
  false), evaluate refuses with the same errors (a 422); a graph validate accepts, evaluate runs, to the shapes, dtypes and flags validate
  inferred, unless the run itself finds what no compile can know (`only_a_run_knows`).

Deterministic (derandomize) and bounded: about 25 s on a 2-core machine.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from dagrad.api.app import create_app
from dagrad.ops import REGISTRY
from dagrad.results import ErrorResponse, EvaluateResponse, InvalidGraph, Validation
from dagrad.settings import Settings
from graph_fuzz import graphs

pytestmark = pytest.mark.fuzz

LIMITS = Settings(
    max_tensor_elements=10**5, max_flops=1e8, max_run_seconds=5, max_nodes=40, max_concurrent_runs=1, spare_workers=0
)
CLIENT = TestClient(create_app(LIMITS))
VALIDATION: TypeAdapter[Any] = TypeAdapter(Validation)
EXAMPLES = 1000 * int(os.environ.get("DAGRAD_FUZZ_SCALE", "1"))  # 10 for a long run


def only_a_run_knows(error: dict[str, Any], graph: dict[str, Any]) -> bool:
    """The run-time errors a compile cannot foresee: the time limit (a run's wall time), and values
    an op refuses (class indices out of range, probabilities outside [0, 1]) when they are computed
    by other ops; values straight from a source are known before the run, and checked then."""
    if error["code"] == "limit" and "time limit" in error["message"]:
        return True
    if error["code"] != "value" or error["node"] is None or error["port"] is None:
        return False
    wired = next(n for n in graph["nodes"] if n["id"] == error["node"])["inputs"][error["port"]]
    feeding = next(n for n in graph["nodes"] if n["id"] == wired)
    return not REGISTRY[feeding["op"]].source


def assert_error_answer(response: Any, graph: dict[str, Any]) -> list[dict[str, Any]]:
    assert 400 <= response.status_code < 500, response.text
    body = ErrorResponse.model_validate(response.json())
    assert body.errors, "an error answer names at least one error"
    ids = {n["id"] for n in graph["nodes"]}
    strays = [e.node for e in body.errors if e.node is not None and e.node not in ids]
    assert not strays, f"errors on nodes that are not in the graph: {strays}"
    return [e.model_dump() for e in body.errors]


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(graph=graphs(), encoding=st.sampled_from(["base64", "list"]), max_elements=st.sampled_from([None, 0, 7]))
def test_validate_and_evaluate_agree_and_never_fail(graph: dict[str, Any], encoding: str, max_elements: Any) -> None:
    # As json.dumps writes it: NaN and Infinity as Python's JSON reads them, a surrogate as \ud800.
    body, headers = json.dumps(graph).encode(), {"content-type": "application/json"}
    validated = CLIENT.post("/api/validate", content=body, headers=headers)
    params: dict[str, Any] = {"encoding": encoding, **({} if max_elements is None else {"max_elements": max_elements})}
    evaluated = CLIENT.post("/api/evaluate", content=body, headers=headers, params=params)
    assert validated.status_code < 500, validated.text
    assert evaluated.status_code < 500, evaluated.text

    if validated.status_code != 200:  # no graph document to check (it breaks the format): refused alike
        refused = assert_error_answer(validated, graph)
        assert evaluated.status_code == validated.status_code
        assert assert_error_answer(evaluated, graph) == refused, "evaluate parses as validate does"
        return
    answer = VALIDATION.validate_python(validated.json())
    if isinstance(answer, InvalidGraph):  # errors found: evaluate refuses them, the same, as a 422
        assert answer.errors, "a graph found invalid names at least one error"
        assert evaluated.status_code == 422, evaluated.text
        found = [e.model_dump() for e in answer.errors]
        assert assert_error_answer(evaluated, graph) == found, "evaluate compiles as validate does"
        return
    meta = answer
    if evaluated.status_code != 200:
        errors = assert_error_answer(evaluated, graph)
        foreseeable = [e for e in errors if not only_a_run_knows(e, graph)]
        assert not foreseeable, f"validate accepted what the run refused: {foreseeable}"
        return
    result = EvaluateResponse.model_validate(evaluated.json())
    assert result.order == meta.order
    for nid, inferred in meta.nodes.items():
        ran = result.nodes[nid]
        assert (ran.shape, ran.dtype, ran.requires_grad, ran.is_leaf) == (
            inferred.shape,
            inferred.dtype,
            inferred.requires_grad,
            inferred.is_leaf,
        ), f"node {nid}: validate inferred {inferred}, the run made {ran}"

"""An exercise's checks (meta.exercise.checks): the expected tensors come from PyTorch run here,
apart from dagrad; evaluate compares the run with them, through the REST API and `dagrad eval`;
a malformed exercise is a located 422."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1, torch_dag_4_1
from dagrad.graph_meta import MAX_CHECK_ELEMENTS


def check(node: str, of: str, t: torch.Tensor, **extra: Any) -> dict[str, Any]:
    return {"node": node, "of": of, "shape": list(t.shape), "values": t.flatten().tolist(), **extra}


def exercise(*checks: dict[str, Any], graph: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(graph or DAG_4_1)
    doc["meta"] = {"section": "4.1", "exercise": {"predict": True, "checks": list(checks)}}
    return doc


@pytest.fixture(scope="module")
def expected() -> dict[str, torch.Tensor]:
    return torch_dag_4_1()


def the_checks(expected: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
    return [
        check("q", "value", expected["q"]),
        check("x3", "value", expected["x3"]),
        check("w1", "grad", expected["w1.grad"]),
        check("w2", "grad", expected["w2.grad"]),
    ]


def by_node(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["node"], c["of"]): c for c in body["checks"]}


def test_the_right_graph_passes_every_check(client: TestClient, expected: dict[str, torch.Tensor]) -> None:
    r = client.post("/api/evaluate", json=exercise(*the_checks(expected)))
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert [(c["node"], c["of"], c["passed"]) for c in checks] == [
        ("q", "value", True),
        ("x3", "value", True),
        ("w1", "grad", True),
        ("w2", "grad", True),
    ]
    for c in checks:
        assert c["mismatched"] == 0
        assert 0 <= c["max_abs_error"] <= c["atol"] + c["rtol"] * 20
        assert (c["rtol"], c["atol"]) == (1e-4, 1e-5)
        assert "matches" in c["message"]


def test_a_different_op_fails_on_the_nodes_it_changes(client: TestClient, expected: dict[str, torch.Tensor]) -> None:
    wrong = copy.deepcopy(DAG_4_1)
    s = next(n for n in wrong["nodes"] if n["id"] == "s")
    s["op"] = "mul"  # x1 * x2 where the chapter adds
    r = client.post("/api/evaluate", json=exercise(*the_checks(expected), graph=wrong))
    assert r.status_code == 200, r.text
    checks = by_node(r.json())
    assert {k for k, c in checks.items() if not c["passed"]} == {
        ("q", "value"),
        ("x3", "value"),
        ("w1", "grad"),
        ("w2", "grad"),
    }
    # Each failure says how far off it is, measured against the oracle of the wrong graph too.
    torch.manual_seed(0)
    w1, w2, x = torch.rand(5, 5), torch.rand(5, 5), torch.randn(5)
    x1 = w1 @ x
    x3 = w1 @ (x1 * (x + w2 @ x1))
    assert checks[("x3", "value")]["max_abs_error"] == pytest.approx(float((x3 - expected["x3"]).abs().max()), rel=1e-5)
    assert checks[("x3", "value")]["mismatched"] >= 1
    assert "x3's value differs" in checks[("x3", "value")]["message"]


def test_a_wrong_node_is_named_and_the_rest_pass(client: TestClient, expected: dict[str, torch.Tensor]) -> None:
    """x3 computed from w1's transpose: a check downstream of the change fails, one upstream of it
    (x1's value) passes."""
    torch.manual_seed(0)
    w1, _, x = torch.rand(5, 5), torch.rand(5, 5), torch.randn(5)
    x1_expected = w1 @ x
    wrong = copy.deepcopy(DAG_4_1)
    wrong["nodes"].append({"id": "w1t", "op": "transpose", "inputs": {"input": "w1"}})
    next(n for n in wrong["nodes"] if n["id"] == "x3")["inputs"]["input"] = "w1t"
    r = client.post(
        "/api/evaluate",
        json=exercise(check("x1", "value", x1_expected), check("q", "value", expected["q"]), graph=wrong),
    )
    assert r.status_code == 200, r.text
    checks = by_node(r.json())
    assert checks[("x1", "value")]["passed"] is True
    assert checks[("q", "value")]["passed"] is False


def test_checks_that_cannot_be_made_fail_saying_why(client: TestClient, expected: dict[str, torch.Tensor]) -> None:
    doc = exercise(
        check("w1", "grad", expected["w1.grad"][0]),  # a row where the whole matrix is
        check("gone", "value", expected["q"]),
        check("x", "grad", torch.zeros(5)),  # x needs no grad
    )
    r = client.post("/api/evaluate", json=doc)
    assert r.status_code == 200, r.text
    checks = by_node(r.json())
    assert all(not c["passed"] and c["max_abs_error"] is None for c in checks.values())
    assert checks[("w1", "grad")]["message"] == "w1's gradient has shape [5, 5] where the exercise expects [5]."
    assert "no node 'gone'" in checks[("gone", "value")]["message"]
    assert "does not require grad" in checks[("x", "grad")]["message"]


def test_tolerances_are_the_documents_own(client: TestClient, expected: dict[str, torch.Tensor]) -> None:
    off = expected["q"] + 0.01
    loose = client.post("/api/evaluate", json=exercise(check("q", "value", off, atol=0.02))).json()["checks"][0]
    tight = client.post("/api/evaluate", json=exercise(check("q", "value", off))).json()["checks"][0]
    assert loose["passed"] is True
    assert loose["atol"] == 0.02
    assert tight["passed"] is False
    assert tight["max_abs_error"] == pytest.approx(0.01, rel=1e-3)


def test_a_document_without_checks_answers_null(client: TestClient) -> None:
    r = client.post("/api/evaluate", json=DAG_4_1)
    assert r.status_code == 200
    assert r.json()["checks"] is None


@pytest.mark.parametrize(
    ("exercise_meta", "where", "says"),
    [
        (
            {"checks": [{"node": "q", "of": "value", "shape": [2], "values": [1.0]}]},
            "meta.exercise.checks.0",
            "holds 2",
        ),
        (
            {"checks": [{"node": "q", "of": "weight", "shape": [], "values": [1.0]}]},
            "meta.exercise.checks.0.of",
            "'value'",
        ),
        (
            {"checks": [{"node": "q", "of": "value", "shape": [], "values": ["1"]}]},
            "meta.exercise.checks.0.values.0",
            "",
        ),
        (
            {"checks": [{"node": "q", "of": "value", "shape": [], "values": [1.0], "rtol": -1}]},
            "meta.exercise.checks.0.rtol",
            "",
        ),
        ({"predict": "yes"}, "meta.exercise.predict", ""),
        ({"hints": []}, "meta.exercise.hints", ""),
        (
            {"checks": [{"node": "q", "of": "value", "shape": [], "values": [1.0]}] * 2},
            "meta.exercise",
            "checks[1] checks the value of 'q' again",
        ),
        (
            {"checks": [{"node": "w", "of": "value", "shape": [MAX_CHECK_ELEMENTS + 1], "values": []}]},
            "meta.exercise.checks.0",
            "at most 65,536",
        ),
        (
            {
                "checks": [
                    {
                        "node": f"n{i}",
                        "of": "value",
                        "shape": [MAX_CHECK_ELEMENTS // 2],
                        "values": [0.0] * (MAX_CHECK_ELEMENTS // 2),
                    }
                    for i in range(3)
                ]
            },
            "meta.exercise",
            "checks[2] brings the checks to 98,304 elements",
        ),
    ],
)
def test_a_malformed_exercise_is_a_located_422(
    client: TestClient, exercise_meta: dict[str, Any], where: str, says: str
) -> None:
    doc = copy.deepcopy(DAG_4_1)
    doc["meta"] = {"exercise": exercise_meta}
    for route in ("/api/evaluate", "/api/validate"):
        r = client.post(route, json=doc)
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert len(errors) == 1
        assert errors[0]["code"] == "malformed"
        assert errors[0]["message"].startswith(f"{where}: "), errors[0]["message"]
        assert says in errors[0]["message"]
        assert "Value error" not in errors[0]["message"]


def test_a_non_finite_expectation_is_refused(client: TestClient) -> None:
    body = json.dumps(exercise({"node": "q", "of": "value", "shape": [], "values": [1.0]})).replace("1.0]", "NaN]")
    r = client.post("/api/evaluate", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"].startswith("meta.exercise.checks.0.values.0: ")


def test_other_meta_keys_stay_free_form(client: TestClient) -> None:
    doc = copy.deepcopy(DAG_4_1)
    doc["meta"] = {"section": "4.1", "anything": {"nested": [1, 2]}}
    assert client.post("/api/validate", json=doc).status_code == 200
    # A document without an exercise reads back without one (no "exercise": null added).
    meta = client.get("/api/examples/dag_4_1").json()["meta"]
    assert "exercise" not in meta
    assert meta["section"].startswith("4.")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dagrad", *args], capture_output=True, text=True, timeout=120)


def test_the_cli_prints_the_checks_and_exits_3_when_one_fails(
    tmp_path: Path, expected: dict[str, torch.Tensor]
) -> None:
    right = tmp_path / "right.json"
    right.write_text(json.dumps(exercise(*the_checks(expected))))
    out = cli("eval", str(right))
    assert out.returncode == 0, out.stderr
    assert "checks: 4 of 4 pass" in out.stdout
    assert "  PASS  w1 grad: w1's gradient matches" in out.stdout

    wrong_graph = copy.deepcopy(DAG_4_1)
    next(n for n in wrong_graph["nodes"] if n["id"] == "s")["op"] = "sub"
    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        json.dumps(exercise(check("x1", "value", expected["x3"] * 0), *the_checks(expected), graph=wrong_graph))
    )
    out = cli("eval", str(wrong))
    assert out.returncode == 3, out.stderr
    assert "checks: 0 of 5 pass" in out.stdout
    assert "  FAIL  q value: q's value differs" in out.stdout

    out = cli("eval", str(wrong), "--json")
    assert out.returncode == 3
    assert [c["passed"] for c in json.loads(out.stdout)["checks"]] == [False] * 5


def test_the_cli_refuses_a_malformed_exercise_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(exercise({"node": "q", "of": "value", "shape": [3], "values": [1.0]})))
    out = cli("eval", str(bad))
    assert out.returncode == 1
    assert "meta.exercise.checks.0: values holds 1 numbers but the shape [3] holds 3" in out.stderr

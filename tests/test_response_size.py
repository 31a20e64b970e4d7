"""The size of evaluate's answer, bounded from the plan before anything runs
(report/response.py response_bytes), and an answer over Settings.max_response_bytes refused
with how to ask for less."""

from __future__ import annotations

import pytest

from conftest import DAG_4_1, MakeClient, errors_of
from dagrad import examples
from dagrad.engine import Engine
from dagrad.graph_format import Graph
from dagrad.report.response import response_bytes
from dagrad.results import PayloadOptions
from dagrad.settings import Settings

OPTIONS = [
    PayloadOptions(),
    PayloadOptions(encoding="list"),
    PayloadOptions(full=["*"]),
    PayloadOptions(encoding="list", full=["*"]),
    PayloadOptions(max_elements=0),
    PayloadOptions(backward_graph=True),
    PayloadOptions(max_elements=0, backward_graph=True),
]


@pytest.mark.parametrize("name", ["dag_4_1", "conv_net", "weight_sharing_blah", "second_derivative", "detach"])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: o.model_dump_json())
def test_the_bound_holds_and_is_not_far_off(name: str, options: PayloadOptions) -> None:
    engine = Engine()
    graph = examples.load(name)
    assert graph is not None
    bound = response_bytes(engine.compile(graph).plan, options, engine.settings)
    actual = len(engine.evaluate(graph, options).model_dump_json())
    assert actual <= bound
    assert bound <= 4 * actual + 20_000  # a bound, not a guess: but one a user can plan with


def test_an_answer_too_large_is_refused_before_running(make_client: MakeClient) -> None:
    graph = {"nodes": [{"id": "w", "op": "parameter", "attrs": {"shape": [512, 512]}}]}
    c = make_client(max_response_bytes=2 * 2**20)
    assert c.post("/api/evaluate", json=graph).status_code == 200  # no data past 65,536 elements by default
    response = c.post("/api/evaluate?full=*&encoding=list", json=graph)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["code"] == "limit"
    assert "at most 2.0 MiB" in error["message"]
    assert "encoding=base64" in error["message"]
    assert c.post("/api/evaluate?full=*", json=graph).status_code == 200  # base64: 1.3 MiB


def test_the_bound_counts_every_shared_use() -> None:
    engine = Engine(Settings())
    graph = Graph.model_validate(DAG_4_1)
    plan = engine.compile(graph).plan
    with_shares = response_bytes(plan, PayloadOptions(), engine.settings)
    forward_only = response_bytes(
        engine.compile(graph.model_copy(update={"run": graph.run.model_copy(update={"output": None})})).plan,
        PayloadOptions(),
        engine.settings,
    )
    assert with_shares > forward_only
    assert len(engine.evaluate(graph).model_dump_json()) <= with_shares

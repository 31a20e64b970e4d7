"""Shared fixtures: an in-process API client, the course's 4.1 DAG and its PyTorch oracle."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import torch
from fastapi.testclient import TestClient

from dagrad.api.app import create_app
from dagrad.settings import Settings

# The test client names the host "testserver", which a real server does not answer to
# (settings.allowed_hosts, api/auth.py): allowed here, before any test module makes its Settings.
os.environ.setdefault("DAGRAD_ALLOWED_HOSTS", "localhost,127.0.0.1,::1,testserver")

DAG_4_1: dict[str, Any] = {
    "nodes": [
        {"id": "w1", "op": "parameter", "attrs": {"shape": [5, 5], "init": "uniform"}},
        {"id": "w2", "op": "parameter", "attrs": {"shape": [5, 5], "init": "uniform"}},
        {"id": "x", "op": "input", "attrs": {"shape": [5], "init": "normal"}},
        {"id": "x1", "op": "matmul", "inputs": {"input": "w1", "other": "x"}},
        {"id": "w2x1", "op": "matmul", "inputs": {"input": "w2", "other": "x1"}},
        {"id": "x2", "op": "add", "inputs": {"input": "x", "other": "w2x1"}},
        {"id": "s", "op": "add", "inputs": {"input": "x1", "other": "x2"}},
        {"id": "x3", "op": "matmul", "inputs": {"input": "w1", "other": "s"}},
        {"id": "q", "op": "norm", "inputs": {"input": "x3"}},
    ],
    "run": {"seed": 0, "output": "q"},
}


@pytest.fixture
def dag() -> dict[str, Any]:
    """A fresh copy of the course's 4.1 DAG, to modify freely."""
    return copy.deepcopy(DAG_4_1)


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """A server with the default settings, its worker processes started once for the session."""
    with TestClient(create_app(Settings())) as c:
        yield c


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """make_client(**settings): a server of its own, stopped (its workers with it) after the test.
    One worker process unless the settings ask for more: each takes seconds to start."""
    opened: list[TestClient] = []

    def make(**limits: Any) -> TestClient:
        c = TestClient(create_app(Settings(**{"max_concurrent_runs": 1, "spare_workers": 0, **limits})))
        c.__enter__()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def node(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


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
    return {"q": q.detach(), "x3": x3.detach(), "w1.grad": w1.grad, "w2.grad": w2.grad, "x": x}


def post_json(client: TestClient, path: str, document: Any) -> Any:
    """POST the document as json.dumps writes it, as a browser's JSON.stringify would not: NaN and
    Infinity as Python's JSON reads them, an unpaired surrogate as the escape \\ud800 (the test
    client's own json= refuses both)."""
    return client.post(path, content=json.dumps(document).encode(), headers={"content-type": "application/json"})


def errors_of(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert isinstance(body["errors"], list)
    assert body["errors"], "an error response must name at least one error"
    return body["errors"]


def found_by_validate(response: Any) -> list[dict[str, Any]]:
    """The errors POST /api/validate found: a graph with errors is a validation that succeeded
    (200, valid false), listing them as evaluate's 422 does."""
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is False, response.text
    return errors_of(response)


T = TypeVar("T")


def run_on_own_loop(
    main: Callable[[], Coroutine[Any, Any, T]], runner: Callable[[Coroutine[Any, Any, T]], T] = asyncio.run
) -> T:
    """runner(main()) (asyncio.run, or uvloop.run) in a thread of its own: the end-to-end tests'
    sync Playwright keeps an event loop running in the main thread for the whole session."""
    out: list[T] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            out.append(runner(main()))
        except BaseException as exc:  # re-raised in the test's thread
            failed.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if failed:
        raise failed[0]
    return out[0]

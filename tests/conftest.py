"""Shared fixtures: an in-process API client and a small valid graph."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dagrad.api.app import create_app
from dagrad.settings import Settings

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
def client() -> TestClient:
    return TestClient(create_app(Settings()))


def make_client(**limits: Any) -> TestClient:
    return TestClient(create_app(Settings(**limits)))


def node(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in graph["nodes"] if n["id"] == node_id)

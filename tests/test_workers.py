"""Runs in worker processes: a time limit that really stops a run, a client that hangs up stops
its run too, a busy server answers 503 with Retry-After, and the server answers others while a
run goes on. The slow graph is one max-pooling with a 512 window over a 1024x1024 input: about
45 s of a core, while each limit here is a second or a few; the margins below are wide, to say
that the run was stopped rather than waited for."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from conftest import DAG_4_1, MakeClient, errors_of, run_on_own_loop, torch_dag_4_1
from dagrad.api.workers import WorkerPool
from dagrad.settings import Settings
from graph_builder import decode
from servers import free_port

SLOW: dict[str, Any] = {
    "nodes": [
        {"id": "x", "op": "input", "attrs": {"shape": [1, 1, 1024, 1024]}},
        {"id": "p", "op": "max_pool2d", "attrs": {"kernel_size": 512, "stride": 1}, "inputs": {"input": "x"}},
    ]
}
ALLOW_SLOW = {"max_flops": 1e15}  # the pooling's real work, so that only the time limit stops it
WELL_BEFORE_IT_ENDS = 20.0  # seconds: the pooling alone takes about 45


def check_dag_4_1(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    body, expected = response.json(), torch_dag_4_1()
    torch.testing.assert_close(decode(body["nodes"]["q"]["value"]), expected["q"])
    torch.testing.assert_close(decode(body["nodes"]["w1"]["grad"]), expected["w1.grad"])


def test_a_run_past_its_time_limit_is_stopped_and_named(make_client: MakeClient) -> None:
    c = make_client(max_run_seconds=1, spare_workers=1, **ALLOW_SLOW)
    check_dag_4_1(c.post("/api/evaluate", json=DAG_4_1))  # the workers are up
    start = time.monotonic()
    response = c.post("/api/evaluate", json=SLOW)
    assert time.monotonic() - start < WELL_BEFORE_IT_ENDS
    assert response.status_code == 422
    [error] = errors_of(response)
    assert (error["node"], error["code"]) == ("p", "limit")
    assert "time limit of 1 s" in error["message"]
    # Its worker was ended; the spare answers the next run at once, with PyTorch's numbers.
    check_dag_4_1(c.post("/api/evaluate", json=DAG_4_1))


def test_the_server_answers_others_while_a_run_goes_on(make_client: MakeClient) -> None:
    c = make_client(max_run_seconds=8, spare_workers=1, **ALLOW_SLOW)
    check_dag_4_1(c.post("/api/evaluate", json=DAG_4_1))
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(c.post, "/api/evaluate", json=SLOW)
        time.sleep(0.5)
        assert c.get("/api/health").status_code == 200
        assert c.post("/api/validate", json=DAG_4_1).status_code == 200  # the spare worker
        assert not slow.done(), "health and validation were answered while the run went on"
        assert slow.result().status_code == 422


def test_a_busy_server_answers_503_with_retry_after(make_client: MakeClient) -> None:
    c = make_client(max_run_seconds=3, queue_seconds=0.3, spare_workers=1, **ALLOW_SLOW)
    check_dag_4_1(c.post("/api/evaluate", json=DAG_4_1))
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(c.post, "/api/evaluate", json=SLOW)  # another student's run holds the only slot
        time.sleep(0.5)
        busy = c.post("/api/evaluate", json=DAG_4_1)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "3"
        assert "busy" in errors_of(busy)[0]["message"]
        assert c.post("/api/validate", json=DAG_4_1).status_code == 200, "validation allocates nothing"
        assert slow.result().status_code == 422
    check_dag_4_1(c.post("/api/evaluate", json=DAG_4_1))


# --- a client that hangs up, against a real server ------------------------------------------------


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads child processes from /proc")
def test_a_client_that_hangs_up_stops_its_run() -> None:
    port = free_port()
    env = {**os.environ, "DAGRAD_MAX_RUN_SECONDS": "60", "DAGRAD_MAX_FLOPS": "1e15", "DAGRAD_MAX_CONCURRENT_RUNS": "1"}
    cmd = [sys.executable, "-m", "uvicorn", "dagrad.api.main:app", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(cmd, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                check_dag_4_1(httpx.post(f"{url}/api/evaluate", json=DAG_4_1, timeout=30))
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        workers = descendants(server.pid)
        assert len(workers) == 3  # the template the workers are forked from, one run slot, one spare
        body = httpx.Request("POST", f"{url}/api/evaluate", json=SLOW).read()
        with socket.create_connection(("127.0.0.1", port)) as s:
            head = (  # a Host the server answers to (settings.allowed_hosts)
                f"POST /api/evaluate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            s.sendall(head.encode() + body)
            time.sleep(1.0)  # the run is under way; then the student closes the tab
        hung_up = time.monotonic()
        while workers <= descendants(server.pid):
            assert time.monotonic() - hung_up < WELL_BEFORE_IT_ENDS, "the run went on after its client left"
            time.sleep(0.1)
        check_dag_4_1(httpx.post(f"{url}/api/evaluate", json=DAG_4_1, timeout=30))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_forked_worker_runs_parallel_kernels(make_client: MakeClient) -> None:
    # Workers are forked from a template that has validated graphs: if it had started a thread pool
    # (OpenMP), a worker's first multi-threaded op would wait forever for threads it does not have.
    c = make_client(max_run_seconds=20, worker_threads=2)
    graph = {
        "nodes": [
            {"id": "w", "op": "parameter", "attrs": {"shape": [1024, 1024]}},
            {"id": "t", "op": "tanh", "inputs": {"input": "w"}},
            {"id": "m", "op": "matmul", "inputs": {"input": "t", "other": "w"}},
            {"id": "s", "op": "sum", "inputs": {"input": "m"}},
        ],
        "run": {"output": "s"},
    }
    response = c.post("/api/evaluate", json=graph)
    assert response.status_code == 200, response.text
    w = torch.empty(1024, 1024).normal_(generator=torch.Generator().manual_seed(0)).requires_grad_()
    s = (torch.tanh(w) @ w).sum()
    s.backward()
    assert response.json()["nodes"]["s"]["value"]["stats"]["mean"] == pytest.approx(s.item(), rel=1e-4)


def test_a_server_stopped_can_start_again() -> None:
    # A test harness (schemathesis) may end an app's lifespan and start it again.
    from fastapi.testclient import TestClient

    from dagrad.api.app import create_app
    from dagrad.settings import Settings

    app = create_app(Settings(max_concurrent_runs=1, spare_workers=0))
    for _ in range(2):
        with TestClient(app) as c:
            check_dag_4_1(c.post("/api/evaluate", json=DAG_4_1))


ARANGE: dict[str, Any] = {  # a 2 MB answer: more than a socket's buffer, so read in many chunks
    "nodes": [
        {"id": "w", "op": "parameter", "attrs": {"shape": [256, 256], "init": "arange", "step": 0.001}},
        {"id": "t", "op": "tanh", "inputs": {"input": "w"}},
        {"id": "s", "op": "sum", "inputs": {"input": "t"}},
    ],
    "run": {"output": "s"},
}


def _uvloop_run() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    uvloop = pytest.importorskip("uvloop")  # in the dev extra: skipped only where it cannot install
    return uvloop.run  # type: ignore[no-any-return]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_large_answers_come_whole_from_a_reused_worker_on_either_event_loop(loop: str) -> None:
    """uvicorn runs on uvloop where it is installed; uvloop's add_reader leaves the worker's socket
    non-blocking, which once cut every answer after the first in two."""
    runner = asyncio.run if loop == "asyncio" else _uvloop_run()
    body = json.dumps(ARANGE).encode()
    w = 0.001 * torch.arange(256 * 256, dtype=torch.float32).reshape(256, 256)
    w.requires_grad_()
    torch.tanh(w).sum().backward()

    async def never() -> None:
        await asyncio.sleep(3600)

    async def main() -> list[tuple[int, bytes]]:
        pool = WorkerPool(Settings(max_concurrent_runs=1, spare_workers=0))
        try:
            await pool.started()
            return [await pool.run("evaluate", body, {"full": ["*"]}, time.monotonic() + 30, never) for _ in range(3)]
        finally:
            pool.close()

    for status, content in run_on_own_loop(main, runner):
        assert status == 200, content[:300]
        nodes = json.loads(content)["nodes"]
        torch.testing.assert_close(decode(nodes["t"]["value"]), torch.tanh(w.detach()))
        assert w.grad is not None
        torch.testing.assert_close(decode(nodes["w"]["grad"]), w.grad)

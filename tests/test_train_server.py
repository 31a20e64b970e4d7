"""Training against a real server (uvicorn, its worker processes): POST /api/train gives the
chapter's numbers; the WebSocket streams, pauses, steps, resumes and stops; a closed socket ends
its training at once (the next one may start: one training at a time here); bad input is a
located 4xx."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from conftest import run_on_own_loop
from dagrad import examples
from servers import dagrad_server


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with dagrad_server(DAGRAD_MAX_TRAINING_RUNS="1", DAGRAD_MAX_TRAINING_RUNS_PER_CLIENT="1") as u:
        yield u


def doc(name: str, **train: Any) -> dict[str, Any]:
    g = examples.load(name)
    assert g is not None
    out: dict[str, Any] = json.loads(g.model_dump_json())
    out["train"].update(train)
    return out


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/api/train/ws"


async def until(ws: Any, kind: str, seen: list[dict[str, Any]], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        seen.append(m)
        if m["type"] == kind:
            return m
        assert m["type"] != "error", m


@pytest.mark.parametrize(
    ("name", "a", "b"), [("train_descent", 0.4246, -0.4246), ("train_descent_detach", 0.5099, -0.4901)]
)
def test_the_chapters_numbers_through_the_api(url: str, name: str, a: float, b: float) -> None:
    r = httpx.post(url + "/api/train", json=doc(name), timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    values = {n["id"]: n["attrs"].get("values") for n in body["graph"]["nodes"]}
    assert (round(values["a"], 4), round(values["b"], 4)) == (a, b)
    assert body["steps"] == 100
    assert len(body["history"]) == 100
    assert body["history"][0]["step"] == 1
    # the trained graph evaluates to the trained state
    e = httpx.post(url + "/api/evaluate?encoding=list", json=body["graph"], timeout=60).json()
    assert e["nodes"]["a"]["value"]["data"]["values"] == values["a"]


def test_stream_pause_step_resume_stop(url: str) -> None:
    async def go() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        async with websockets.connect(ws_url(url), max_size=2**26) as ws:
            await ws.send(json.dumps({"type": "start", "graph": doc("train_moons_mlp", steps=5000)}))
            started = await until(ws, "started", seen)
            assert started["task"] == "classification"
            assert "fc1_weight" in started["parameters"]
            assert len(started["data"]["train_x"]) == 160
            assert len(started["data"]["train_x"][0]) == 2
            snap = await until(ws, "snapshot", seen)
            assert snap["boundary"]["size"] == [48, 48]
            assert "fc1_weight" in snap["result"]["nodes"]
            await ws.send('{"type": "pause"}')
            paused = await until(ws, "paused", seen)
            await ws.send('{"type": "step"}')
            stepped = await until(ws, "paused", seen)
            assert stepped["step"] == paused["step"] + 1
            await ws.send('{"type": "resume"}')
            while True:
                m = await until(ws, "progress", seen)
                if m["points"][-1]["step"] > stepped["step"] + 20:
                    break
            await ws.send('{"type": "stop"}')
            done = await until(ws, "done", seen)
            assert done["reason"] == "stopped"
            assert done["step"] < 5000
            assert done["graph"]["train"]["steps"] == 5000
        return seen

    seen = run_on_own_loop(go)
    steps = [p["step"] for m in seen if m["type"] == "progress" for p in m["points"]]
    assert steps == list(range(1, len(steps) + 1)), "every step's point, once, in order"
    losses = [p["loss"] for m in seen if m["type"] == "progress" for p in m["points"]]
    assert sum(losses[-10:]) < sum(losses[:10]), "the loss falls"


def test_a_closed_socket_ends_its_training(url: str) -> None:
    async def go() -> None:
        async with websockets.connect(ws_url(url), max_size=2**26) as ws:
            await ws.send(json.dumps({"type": "start", "graph": doc("train_moons_mlp", steps=10000)}))
            await until(ws, "progress", [])
        # gone mid-training: the one training this server allows must be free again at once
        start = time.monotonic()
        while True:
            r = httpx.post(url + "/api/train", json=doc("train_descent", steps=3), timeout=60)
            if r.status_code != 429 or time.monotonic() - start > 5:
                break
            await asyncio.sleep(0.1)
        assert r.status_code == 200, r.text

    run_on_own_loop(go)


def test_one_training_per_client_at_a_time(url: str) -> None:
    async def go() -> None:
        async with websockets.connect(ws_url(url), max_size=2**26) as ws:
            await ws.send(json.dumps({"type": "start", "graph": doc("train_moons_mlp", steps=10000)}))
            await until(ws, "progress", [])
            r = httpx.post(url + "/api/train", json=doc("train_descent"), timeout=60)
            assert r.status_code == 429
            assert r.json()["errors"][0]["code"] == "limit"
            assert "max_training_runs" in r.json()["errors"][0]["message"]
            await ws.send('{"type": "stop"}')
            await until(ws, "done", [])

    run_on_own_loop(go)


def test_an_error_streams_as_the_documented_body(url: str) -> None:
    async def go() -> dict[str, Any]:
        bad = doc("train_moons_mlp")
        bad["train"]["data"]["features"] = "nope"
        async with websockets.connect(ws_url(url)) as ws:
            await ws.send(json.dumps({"type": "start", "graph": bad}))
            return dict(json.loads(await asyncio.wait_for(ws.recv(), 60)))

    m = run_on_own_loop(go)
    assert m["type"] == "error"
    assert m["status"] == 422
    assert m["body"]["errors"][0]["attribute"] == "train.data.features"


def located(url: str, graph: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(url + "/api/train", json=graph, timeout=60)
    assert r.status_code == 422, r.text
    error: dict[str, Any] = r.json()["errors"][0]
    return error


def test_bad_input_is_located(url: str) -> None:
    g = doc("train_descent")
    g["train"]["optimizer"]["lr"] = -1
    assert "lr" in located(url, g)["message"]
    g = doc("train_descent", steps=0)
    assert "steps" in located(url, g)["message"]
    g = doc("train_descent")
    g["train"]["optimizer"] = {"name": "rmsprop", "lr": 0.1}
    assert "optimizer" in located(url, g)["message"]
    g = doc("train_moons_mlp")
    g["train"]["data"]["dataset"]["name"] = "mnist"
    assert "dataset" in located(url, g)["message"]
    g = doc("train_descent", steps=10**9)
    e = located(url, g)
    assert e["attribute"] == "train.steps"
    assert e["code"] == "limit"
    # a loss that is not a scalar
    g = doc("train_descent")
    g["nodes"].append({"id": "two", "op": "stack", "inputs": {"tensors": ["a", "b"]}})
    g["run"]["output"] = "two"
    e = located(url, g)
    assert e["node"] == "two"
    assert "scalar" in e["message"]
    # a parameter that does not affect the loss
    g = doc("train_descent")
    g["nodes"].append({"id": "c", "op": "parameter", "attrs": {"init": "values", "values": 1.0}})
    e = located(url, g)
    assert e["node"] == "c"
    assert "does not affect the loss" in e["message"]
    # unknown node ids
    g = doc("train_descent", parameters=["a", "zzz"])
    e = located(url, g)
    assert e["code"] == "unknown_node"
    assert "zzz" in e["message"]
    g = doc("train_moons_mlp", predict="zzz")
    assert located(url, g)["attribute"] == "train.predict"
    # a dataset whose shape does not fit the bound input
    g = doc("train_moons_mlp")
    for n in g["nodes"]:
        if n["id"] == "x":
            n["attrs"]["shape"] = [32, 3]
        if n["id"] == "fc1_weight":
            n["attrs"]["shape"] = [16, 3]
    e = located(url, g)
    assert e["node"] == "x"
    assert "[32, 3]" in e["message"]
    assert "2" in e["message"]


def test_the_page_and_the_command_line_train_to_the_same_numbers(
    url: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the page streams (the WebSocket, a worker process of the server) and what `dagrad
    train` gives for the same saved graph and seed are the same numbers: every step's loss and
    every trained value."""
    from dagrad.cli import main

    graph = doc("train_moons_mlp", steps=25)

    async def page() -> tuple[list[float], dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        async with websockets.connect(ws_url(url), max_size=2**26) as ws:
            await ws.send(json.dumps({"type": "start", "graph": graph}))
            done = await until(ws, "done", seen)
        losses = [p["loss"] for m in seen if m["type"] == "progress" for p in m["points"]]
        return losses, done["graph"]

    losses, streamed = run_on_own_loop(page)
    saved, out = tmp_path / "moons.json", tmp_path / "trained.json"
    saved.write_text(json.dumps(graph))
    assert main(["train", str(saved), "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    trained = json.loads(out.read_text())
    assert len(losses) == 25
    assert losses == [p["loss"] for p in printed["history"]]
    by_id = {n["id"]: n for n in trained["nodes"]}
    for node in streamed["nodes"]:
        assert node["attrs"] == by_id[node["id"]]["attrs"], node["id"]

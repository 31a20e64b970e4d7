"""A streamed training's messages (api/train_job.Session), read from its pipe as the server reads
them: every step's point once; test figures at every snapshot_every step and the last; snapshots
of the state they name, the last step always among them, and no more of them than their share of
the time allows (SNAPSHOT_SHARE), however often snapshot_every asks."""

from __future__ import annotations

import base64
import json
import pickle
import threading
import time
from multiprocessing.connection import Connection, Pipe
from typing import Any

import numpy as np
import pytest

from dagrad import examples
from dagrad.api import train_job
from dagrad.api.train_job import Session
from dagrad.engine import Engine
from dagrad.graph_format import Graph


def graph(name: str, **train: Any) -> Graph:
    g = examples.load(name)
    assert g is not None
    assert g.train is not None
    return g.model_copy(update={"train": g.train.model_copy(update=train)})


def streamed(g: Graph) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every message of a streamed session of `g`, and its final `done`."""
    ours, theirs = Pipe()
    messages: list[dict[str, Any]] = []

    def drain(conn: Connection) -> None:
        while True:
            try:
                kind, text = pickle.loads(conn.recv_bytes())
            except EOFError:
                return
            assert kind == "msg"
            messages.append(json.loads(text))

    reader = threading.Thread(target=drain, args=(theirs,), daemon=True)
    reader.start()
    engine = Engine()
    done = json.loads(Session(engine, engine.trainer(g), ours).run())
    ours.close()
    reader.join(10)
    return messages, done


def test_every_point_once_test_figures_on_schedule_and_the_last_state_snapshotted() -> None:
    messages, done = streamed(graph("train_moons_mlp", steps=37, snapshot_every=5))
    points = [p for m in messages if m["type"] == "progress" for p in m["points"]]
    assert [p["step"] for p in points] == list(range(1, 38))
    measured = [p["step"] for p in points if p["test_loss"] is not None]
    assert measured == [5, 10, 15, 20, 25, 30, 35, 37]
    snaps = [m for m in messages if m["type"] == "snapshot"]
    assert snaps[0]["step"] == 0, "the state before the first step"
    assert snaps[-1]["step"] == 37 == done["step"]
    assert all(s["step"] % 5 == 0 for s in snaps[:-1])
    # a snapshot shows the state after its step: its parameters are the trained graph's at the end
    trained = {n["id"]: n["attrs"]["values"] for n in done["graph"]["nodes"] if n["id"].startswith("fc")}
    last = snaps[-1]["result"]["nodes"]
    for nid, values in trained.items():
        data = last[nid]["value"]["data"]
        assert data["dtype"] == "float32"
        sent = np.frombuffer(base64.b64decode(data["b64"]), dtype="<f4")
        assert sent.tolist() == np.asarray(values, dtype=np.float32).reshape(-1).tolist(), nid


def test_snapshots_take_at_most_their_share_of_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # A snapshot that takes over 20 ms, due after every step of a training whose steps take about
    # a millisecond: taking each would spend most of the time on them. Held to a fifth of the time,
    # they come before the first step, then at most once per 4 snapshots' time of steps, and
    # after the last step.
    real = Session._snapshot
    seconds = 0.02

    def slow(self: Session) -> None:
        time.sleep(seconds)
        real(self)

    monkeypatch.setattr(Session, "_snapshot", slow)
    start = time.perf_counter()
    messages, done = streamed(graph("train_moons_mlp", steps=300, snapshot_every=1))
    wall = time.perf_counter() - start
    snaps = [m["step"] for m in messages if m["type"] == "snapshot"]
    assert snaps[0] == 0
    assert snaps[-1] == 300 == done["step"]
    assert snaps == sorted(set(snaps))
    between = len(snaps) - 2  # the first and the last come whatever the time
    assert train_job.SNAPSHOT_SHARE == 0.2
    assert between * seconds <= 0.2 * wall, (snaps, wall)
    points = [p["step"] for m in messages if m["type"] == "progress" for p in m["points"]]
    assert points == list(range(1, 301))
    measured = [p["step"] for m in messages if m["type"] == "progress" for p in m["points"] if p["test_loss"]]
    assert measured == points, "test figures at every snapshot_every step, snapshot or not"

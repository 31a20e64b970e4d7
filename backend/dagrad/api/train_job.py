"""A training, in the worker process that runs it (forked for it alone: api/training.py).

The server sends one job, a pickled ("train", body, {"stream": bool}). The worker answers with
pickled messages: ("msg", JSON text) for each message of the WebSocket protocol (docs/
workers.md), then ("end", status, JSON bytes): the answer of POST /api/train, or, streamed,
the `done` or `error` message. While streaming, the server forwards the page's controls as
pickled dicts ({"type": "pause"} ...), read between steps; a paused training waits for the
next one, at most train_idle_seconds. The server kills the process when the page goes away.
"""

from __future__ import annotations

import json
import time
from multiprocessing.connection import Connection
from typing import Any

import torch

from dagrad.api.error_handlers import error_json, graph_errors_body
from dagrad.engine import Engine
from dagrad.errors import GraphErrors
from dagrad.graph_format import Graph
from dagrad.training import Trainer, TrainPoint, run_to_end

FLUSH_SECONDS = 0.05  # progress at most 20 messages a second
# Snapshots (an evaluate of the trained graph and the boundary: ~5 ms on the moons MLP, ~60 ms on
# the digits Net, while 10 steps take ~5 and ~35 ms) take at most this share of the wall time: one
# due (every snapshot_every steps) waits until the steps since the last have run 1/SHARE - 1 times
# as long as it took. Streaming then costs ~20%, not 50-65% (bench/train.py); the numbers of the
# training do not change (snapshots read the state under no_grad), nor do the test figures, which
# are measured at every snapshot_every step all the same.
SNAPSHOT_SHARE = 0.2


def error_message(status: int, body: bytes) -> str:
    return json.dumps({"type": "error", "status": status, "body": json.loads(body)})


def train_job(engine: Engine, graph: Graph, options: dict[str, Any], conn: Connection) -> tuple[int, bytes]:
    """Run the training; the final (status, JSON bytes)."""
    torch.set_num_threads(engine.settings.train_threads)
    try:
        trainer = engine.trainer(graph)
        if not options.get("stream"):
            return 200, run_to_end(trainer, engine.settings.max_train_seconds).model_dump_json().encode()
        return 200, Session(engine, trainer, conn).run().encode()
    except GraphErrors as exc:
        body = error_json(graph_errors_body(exc))
        if options.get("stream"):
            return exc.status, error_message(exc.status, body).encode()
        return exc.status, body


class Session:
    """A streamed training: steps, the page's controls between them, progress and snapshots."""

    def __init__(self, engine: Engine, trainer: Trainer, conn: Connection) -> None:
        self.engine = engine
        self.trainer = trainer
        self.conn = conn
        self.points: list[TrainPoint] = []
        self.flushed = time.perf_counter()
        self.paused = False
        self.single = False  # a "step": one, then paused
        self.snapshot_at = 0.0  # time.perf_counter() at which the last snapshot ended
        self.snapshot_s = 0.0  # how long it took
        self.snapshot_step = -1  # the step it showed

    def send(self, text: str) -> None:
        self.conn.send_bytes(_pickle(("msg", text)))

    def run(self) -> str:
        t = self.trainer
        self.send(
            json.dumps(
                {
                    "type": "started",
                    "steps": t.train.steps,
                    "parameters": t.parameters,
                    "task": t.task,
                    "data": t.data_points(),
                }
            )
        )
        # The state before the first step: the page shows the initial values at once, and keeps
        # them to set beside the trained ones (the first layer's kernels, as they were drawn).
        self.snapshot()
        budget = self.engine.settings.max_train_seconds  # running time: a pause does not count
        ran = 0.0
        reason = "finished"
        while True:
            if not self._controls():
                reason = "stopped"
                break
            if t.steps >= t.train.steps:
                break
            if ran > budget:
                reason = "time_limit"
                break
            start = time.perf_counter()
            point = t.step()
            self.points.append(point)
            snap = point.step % t.train.snapshot_every == 0
            if snap:
                t.measure(point)
            if snap or time.perf_counter() - self.flushed >= FLUSH_SECONDS:
                self.flush()
            if snap and self._snapshot_due():
                self.snapshot()
            ran += time.perf_counter() - start
            if self.single:
                self.single = False
                self.pause()
        last = self.points[-1] if self.points else None
        if last is not None and last.test_loss is None:
            t.measure(last)
        self.flush()
        if self.snapshot_step != t.steps:  # the last state, always
            self.snapshot()
        graph = t.trained_graph().model_dump_json(exclude_none=True)
        return f'{{"type":"done","step":{t.steps},"reason":"{reason}","graph":{graph}}}'

    def _controls(self) -> bool:
        """The page's messages since the last step (waiting for one while paused); False on stop."""
        idle = self.engine.settings.train_idle_seconds
        while self.paused or self.conn.poll(0):
            if not self.conn.poll(idle if self.paused else 0):
                return not self.paused  # paused and idle too long: stopped
            kind = _unpickle(self.conn.recv_bytes()).get("type")
            if kind == "stop":
                return False
            if kind == "pause" and not self.paused:
                self.pause()
            elif kind == "resume":
                self.paused = False
            elif kind == "step":
                self.paused, self.single = False, True
                return True
        return True

    def pause(self) -> None:
        self.paused = True
        self.flush()
        self.snapshot()
        self.send(json.dumps({"type": "paused", "step": self.trainer.steps}))

    def flush(self) -> None:
        if self.points:
            points = [p.model_dump() for p in self.points]
            self.send(json.dumps({"type": "progress", "points": points}))
            self.points = []
        self.flushed = time.perf_counter()

    def _snapshot_due(self) -> bool:
        """Whether the steps since the last snapshot ran long enough for another (SNAPSHOT_SHARE)."""
        return time.perf_counter() - self.snapshot_at >= self.snapshot_s * (1 / SNAPSHOT_SHARE - 1)

    def snapshot(self) -> None:
        """Every node's value and gradient at this step, as /api/evaluate gives them for the
        trained graph, and the boundary or curve."""
        start = time.perf_counter()
        self._snapshot()
        self.snapshot_at = time.perf_counter()
        self.snapshot_s = self.snapshot_at - start
        self.snapshot_step = self.trainer.steps

    def _snapshot(self) -> None:
        t = self.trainer
        result = self.engine.evaluate(t.trained_graph()).model_dump_json()
        boundary, curve = t.boundary(), t.curve()
        b = "null" if boundary is None else boundary.model_dump_json()
        c = "null" if curve is None else curve.model_dump_json()
        self.send(f'{{"type":"snapshot","step":{t.steps},"result":{result},"boundary":{b},"curve":{c}}}')


def _pickle(value: Any) -> bytes:
    import pickle

    return pickle.dumps(value)


def _unpickle(data: bytes) -> dict[str, Any]:
    import pickle

    value = pickle.loads(data)
    return value if isinstance(value, dict) else {}

"""Trainings seen from the server process: who may start one, and the worker that runs it.

Each training gets a worker process forked for it alone (WorkerPool.trainer), apart from the
run slots' workers, so that other students' evaluates keep their workers and cores (a training
worker has train_threads PyTorch threads). It is killed when the training ends, is stopped, or
its client goes away; the count of trainings then drops at once. `TrainingRuns` admits at most
max_training_runs per server process and max_training_runs_per_client per client (its token,
else its address), before any worker is forked.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

from starlette.requests import HTTPConnection

from dagrad.api.workers import Worker, WorkerPool
from dagrad.errors import GraphError, GraphErrors
from dagrad.settings import Settings


def client_key(conn: HTTPConnection) -> str:
    """Who a client is, for the per-client limit: its token when it sends one, else its address."""
    auth = conn.headers.get("authorization", "")
    token = auth[7:] if auth.lower().startswith("bearer ") else conn.cookies.get("dagrad_token")
    if token:
        return "token:" + token
    return "addr:" + (conn.client.host if conn.client else "?")


class TrainingRuns:
    """How many trainings run, in all and per client (per server process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clients: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def running(self) -> int:
        return sum(self.clients.values())

    @contextlib.contextmanager
    def admitted(self, client: str) -> Iterator[None]:
        """Held for the life of one training; a 429 when a limit is reached."""
        s = self.settings
        with self._lock:
            if self.running >= s.max_training_runs:
                raise _busy(f"{self.running} trainings are running, as many as this server allows "
                            f"(max_training_runs = {s.max_training_runs})")  # fmt: skip
            if self.clients[client] >= s.max_training_runs_per_client:
                raise _busy(f"you already run {self.clients[client]} training(s), as many as one client may "
                            f"(max_training_runs_per_client = {s.max_training_runs_per_client}). Stop it first")  # fmt: skip
            self.clients[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self.clients[client] -= 1
                if self.clients[client] <= 0:
                    del self.clients[client]


def _busy(why: str) -> GraphErrors:
    return GraphErrors([GraphError(code="limit", message=f"{why}; try again when one has finished.")],
                       status=429, headers={"Retry-After": "5"})  # fmt: skip


class TrainingWorker:
    """A forked worker running one training: its messages arrive on a queue (a thread reads the
    worker's socket, blocking, and hands each to the event loop)."""

    def __init__(self, pool: WorkerPool, worker: Worker) -> None:
        self.pool = pool
        self.worker = worker
        self.messages: asyncio.Queue[tuple[Any, ...] | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._ended = False

    @classmethod
    async def start(cls, pool: WorkerPool, body: bytes, stream: bool) -> TrainingWorker:
        worker = await pool.trainer()
        self = cls(pool, worker)
        try:
            worker.conn.send_bytes(pickle.dumps(("train", body, {"stream": stream})))
        except OSError:
            self.end()
            raise GraphErrors(
                [GraphError(code="runtime", message="the training process ended at once.")], status=503
            ) from None
        threading.Thread(target=self._read, daemon=True, name="dagrad-train-read").start()
        return self

    def _read(self) -> None:
        while True:
            try:
                message = pickle.loads(self.worker.conn.recv_bytes())
            except (EOFError, OSError):  # killed, or ended
                message = None
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(self.messages.put_nowait, message)
            if message is None or message[0] == "end":
                return

    def control(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.worker.conn.send_bytes(pickle.dumps(message))

    def end(self) -> None:
        """Kill the process (its training ends with it); once."""
        if not self._ended:
            self._ended = True
            self.pool.end_trainer(self.worker)


def ended_early() -> GraphErrors:
    return GraphErrors(
        [
            GraphError(
                code="limit",
                message="the training process ended before it answered, most likely for lack of "
                "memory. Use smaller tensors or a smaller batch.",
            )
        ]
    )

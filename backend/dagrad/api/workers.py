"""The worker processes that run graphs, seen from the server process (docs/workers.md).

The server process only parses HTTP, routes and relays: each validate or evaluate request is
handed, as its raw body, to one of `max_concurrent_runs + spare_workers` processes
(api/worker_main.py), which answers with the whole JSON body. At most `max_concurrent_runs`
evaluations hold tensors at once (the memory bound); the spare keeps a worker ready when one is
being replaced, so that nobody waits for PyTorch to import. When a job passes
`max_run_seconds`, or its client hangs up, its process is killed and a new one started.

A free run slot and an idle worker are waited for through `Handoff`s (api/handoff.py), which
serve any event loop without a thread; a job's answer is awaited on the calling event loop,
through `add_reader` on the worker's socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import mmap
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from dagrad.api import worker_main
from dagrad.api.handoff import Handoff
from dagrad.errors import GraphError, GraphErrors
from dagrad.settings import Settings

# A job is stopped this long after max_run_seconds, so that the worker's own check between nodes
# (which names the node) answers first when it can.
GRACE_SECONDS = 0.25
# How long a request may wait for the server's first workers to import PyTorch and warm up.
STARTUP_SECONDS = 120.0


class ClientGone(Exception):
    """The client hung up before its answer was ready; its job was stopped."""


class Template:
    """The process workers are forked from (api/worker_main.py): imported and warmed up once.
    A plain subprocess, not multiprocessing's spawn, which would import the server's __main__
    module again."""

    def __init__(self, settings_json: str) -> None:
        self.control, child = socket.socketpair()
        # numpy's BLAS threads would only compete with PyTorch's, and a thread does not survive fork
        env = {"OPENBLAS_NUM_THREADS": "1", **os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dagrad.api.worker_main", str(child.fileno()), settings_json],
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        child.close()
        self._lock = threading.Lock()

    def fork(self) -> Worker:
        """A new worker; blocks until the template has warmed up (seconds, the first time)."""
        with self._lock:
            self.control.sendall(b"f")
            message, fds, _, _ = socket.recv_fds(self.control, 32, 2)
        if not message or len(fds) != 2:
            raise OSError(f"the template process ended ({self.process.poll()})")
        return Worker(int(message), fds[0], fds[1])

    def close(self) -> None:
        self.control.close()
        self.process.kill()
        self.process.wait(timeout=5)


class Worker:
    """A forked worker: its pid, its socket for jobs, and `where` (what it is running)."""

    def __init__(self, pid: int, conn_fd: int, where_fd: int) -> None:
        self.pid = pid
        self.conn = Connection(conn_fd)
        self.where = mmap.mmap(where_fd, worker_main.WHERE_BYTES)
        os.close(where_fd)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.conn.close()
        self.where.close()

    def whereabouts(self) -> str:
        return self.where[:].split(b"\0", 1)[0].decode(errors="replace")


class Slot:
    """A run slot, released once (when the answer has been written, or on an error)."""

    def __init__(self, slots: Handoff[int] | None, token: int = 0) -> None:
        self._slots = slots
        self._token = token

    def release(self) -> None:
        slots, self._slots = self._slots, None
        if slots is not None:
            slots.put(self._token)


class WorkerPool:
    """Started by the app's lifespan (or the first job), closed by its end; a pool closed can be
    started again (a test harness may end and restart an app's lifespan)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.size = settings.max_concurrent_runs + settings.spare_workers
        self._settings_json = settings.model_dump_json()
        self._runs: Handoff[int] = Handoff(range(settings.max_concurrent_runs))
        self._idle: Handoff[Worker] = Handoff()
        self._workers: set[Worker] = set()
        self._trainers: set[Worker] = set()  # forked for one training each (api/training.py), apart from the runs'
        self._lock = threading.Lock()
        self._template: Template | None = None
        self._up = threading.Event()  # set once the first workers are forked (or failed to be)

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the template and fork the workers from it, once, in the background."""
        with self._lock:
            if self._template is not None:
                return
            template = self._template = Template(self._settings_json)
            up = self._up = threading.Event()
        threading.Thread(target=self._fork, args=(template, self.size, up), daemon=True, name="dagrad-fork").start()

    async def started(self) -> None:
        """start(), and wait until the first workers are up: the server takes no request before,
        so that the first students do not wait out their queue time while PyTorch imports."""
        self.start()
        up = self._up
        if not up.is_set():
            await asyncio.get_running_loop().run_in_executor(None, up.wait, STARTUP_SECONDS)

    def close(self) -> None:
        with self._lock:
            workers, self._workers = [*self._workers, *self._trainers], set()
            self._trainers = set()
            template, self._template = self._template, None
            self._idle = Handoff()
        for w in workers:
            w.kill()
        if template is not None:
            template.close()

    def _fork(self, template: Template, count: int, done: threading.Event | None = None) -> None:
        """Fork `count` workers from `template` into the idle queue (in a thread: the template may
        still be warming up). A template that died is started again, once; one that the pool has
        closed since forks nothing more."""
        try:
            for _ in range(count):
                worker, template = self._forked(template)
                with self._lock:
                    if self._template is not template:
                        worker.kill()
                        return
                    self._workers.add(worker)
                    idle = self._idle
                idle.put(worker)
        except OSError as exc:
            if self._template is template:
                print(f"dagrad: no worker process could be started: {exc}", file=sys.stderr)
        finally:
            if done is not None:
                done.set()

    def _forked(self, template: Template) -> tuple[Worker, Template]:
        """A worker, and the template it came from: `template`, or its successor if it had died."""
        try:
            return template.fork(), template
        except OSError:
            with self._lock:
                if self._template is not template:
                    raise
                new = self._template = Template(self._settings_json)
            template.close()
            return new.fork(), new

    def _discard(self, worker: Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        worker.kill()

    def _replace(self, worker: Worker) -> None:
        self._discard(worker)
        template = self._template
        if template is not None:
            threading.Thread(target=self._fork, args=(template, 1), daemon=True, name="dagrad-fork").start()

    # --- training workers ---------------------------------------------------------------------
    async def trainer(self) -> Worker:
        """A worker forked for one training: not one of the run slots' workers, so that evaluates
        keep theirs; ended by end_trainer."""
        await self.started()
        template = self._template
        if template is None:
            raise GraphErrors([GraphError(code="runtime", message="the server is shutting down.")], status=503)
        loop = asyncio.get_running_loop()
        try:
            worker = await loop.run_in_executor(None, template.fork)
        except OSError as exc:
            raise GraphErrors(
                [GraphError(code="runtime", message=f"no training process could be started: {exc}")], status=503
            ) from exc
        with self._lock:
            self._trainers.add(worker)
        return worker

    def end_trainer(self, worker: Worker) -> None:
        with self._lock:
            self._trainers.discard(worker)
        worker.kill()

    @property
    def trainers(self) -> int:
        """Training processes alive."""
        return len(self._trainers)

    # --- jobs ---------------------------------------------------------------------------------
    async def slot(self, kind: str, deadline: float) -> Slot:
        """A run slot for an evaluation or a gradient check (validation needs none: it allocates
        nothing), waiting until `deadline` (time.monotonic()) at most; else a 503 with Retry-After."""
        if kind == "validate":
            return Slot(None)
        token = await self._runs.take(deadline)
        if token is None:
            raise self._busy(f"{self.settings.max_concurrent_runs} runs are in progress")
        return Slot(self._runs, token)

    async def run(
        self,
        kind: str,
        body: bytes,
        options: dict[str, Any] | None,
        deadline: float,
        gone: Callable[[], Awaitable[None]],
    ) -> tuple[int, bytes]:
        """The job's answer (HTTP status, JSON body), from the first idle worker that takes it."""
        await self.started()
        while True:
            worker = await self._idle.take(deadline)
            if worker is None:
                if not self._workers:
                    raise GraphErrors(
                        [
                            GraphError(
                                code="runtime", message="the server could not start its worker processes: see its log."
                            )
                        ],
                        status=503,
                        headers={"Retry-After": "10"},
                    )
                raise self._busy("every worker process stayed busy")
            try:
                worker.conn.send_bytes(pickle.dumps((kind, body, options)))
            except OSError:  # it died while idle (killed from outside): take another
                self._replace(worker)
                continue
            return await self._answer(worker, gone)

    async def _answer(self, worker: Worker, gone: Callable[[], Awaitable[None]]) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        fd = worker.conn.fileno()
        loop.add_reader(fd, _settle, readable)
        hung_up = asyncio.ensure_future(gone())
        given_up = False
        try:
            limit = self.settings.max_run_seconds + GRACE_SECONDS
            done, _ = await asyncio.wait({readable, hung_up}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            given_up = True
            raise
        finally:
            loop.remove_reader(fd)
            # uvloop's add_reader leaves the socket non-blocking: recv_bytes would then stop at the
            # first chunk of a large answer (BlockingIOError), and so would the next job's send.
            os.set_blocking(fd, True)
            hung_up.cancel()
            if given_up:  # the request was abandoned (a client's own deadline, a shutdown): so is its job
                self._replace(worker)
        if readable in done:
            try:
                status, content = pickle.loads(worker.conn.recv_bytes())
            except (EOFError, OSError):  # the process ended mid-job: out of memory, or killed
                self._replace(worker)
                raise _ended() from None
            self._idle.put(worker)
            return status, content
        where = worker.whereabouts()
        self._replace(worker)
        if hung_up in done:
            raise ClientGone
        raise self._timed_out(where)

    def _busy(self, why: str) -> GraphErrors:
        s = self.settings
        message = f"the server is busy: {why}, and none finished within {s.queue_seconds:g} s. Try again in a moment."
        retry = str(max(1, math.ceil(s.max_run_seconds)))  # a run ends within max_run_seconds
        return GraphErrors([GraphError(code="limit", message=message)], status=503, headers={"Retry-After": retry})

    def _timed_out(self, where: str) -> GraphErrors:
        limit = f"the run passed its time limit of {self.settings.max_run_seconds:g} s"
        kind, _, what = where.partition(":")
        if kind == "node":
            return GraphErrors(
                [
                    GraphError(
                        node=what,
                        code="limit",
                        message=f"{limit} while running this node, and was stopped. Use smaller tensors or fewer, cheaper ops.",
                    )
                ]
            )
        during = f" during backward pass {what}" if kind == "pass" else ""
        return GraphErrors(
            [
                GraphError(
                    code="limit",
                    message=f"{limit}{during}, and was stopped. Use smaller tensors or fewer, cheaper ops.",
                )
            ]
        )


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _ended() -> GraphErrors:
    message = (
        "the process running this graph ended before it answered, most likely for lack of memory. Use smaller tensors."
    )
    return GraphErrors([GraphError(code="limit", message=message)])

"""The worker processes: they parse, compile and run graphs away from the server's event loop.

The server (api/workers.py) starts one *template* process, `python -m dagrad.api.worker_main
CONTROL_FD SETTINGS_JSON`, which imports PyTorch and validates every example once (PyTorch loads
its meta kernels lazily), then forks a worker each time the server writes b"f" on its control
socket, and sends back the worker's pid and two file descriptors (SCM_RIGHTS): its socket and a
small shared file, `where`. A forked worker starts warm in milliseconds, where a new Python takes
seconds of a core to import PyTorch (docs/workers.md).

A worker takes one job at a time on its socket: a pickled (kind, body, options), where body is
the request's raw JSON, and answers a pickled (status, JSON bytes): the whole HTTP answer, built
here, so that the server only relays it. Before each node it writes the node's id into `where`,
which the server reads when it has to stop the worker at the time limit. A worker exits when
the server closes its socket, the template when the server closes the control socket.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import signal
import socket
import sys
import tempfile
import traceback
from multiprocessing.connection import Connection
from typing import Any

import torch
from pydantic import ValidationError

from dagrad import examples
from dagrad.api.error_handlers import (
    ascii_json,
    error_json,
    graph_errors_body,
    invalid_graph,
    parse_failure,
    validation_body,
)
from dagrad.api.train_job import error_message, train_job
from dagrad.engine import Engine
from dagrad.errors import GraphError, GraphErrors
from dagrad.graph_format import Graph
from dagrad.interpreter import Observer
from dagrad.plan import PlannedNode
from dagrad.report.spelled import spelled_nodes
from dagrad.results import ErrorResponse, PayloadOptions
from dagrad.settings import Settings

# `where` (WHERE_BYTES of shared memory, NUL-terminated): "node:<id>" while a node runs (ids are
# at most 100 characters: 400 bytes of UTF-8), "pass:<n>" during backward pass n.
WHERE_BYTES = 512


def _write(where: mmap.mmap, text: bytes) -> None:
    where[: len(text) + 1] = text + b"\0"


class Whereabouts(Observer):
    """Writes what the run is doing into shared memory, for the server to name on a time-out."""

    def __init__(self, where: mmap.mmap) -> None:
        self.where = where

    def starting(self, node: PlannedNode) -> None:
        _write(self.where, b"node:" + node.id.encode(errors="replace")[: WHERE_BYTES - 8])

    def backward_pass(self, index: int, output: Any) -> None:
        _write(self.where, f"pass:{index + 1}".encode())


def parse(body: bytes) -> Graph | tuple[int, ErrorResponse]:
    """The graph, or the status and body of the answer that says why the body is not one."""
    try:
        return Graph.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    parsed, failure = parse_failure(body)
    if failure is not None:
        return 400, failure
    if parsed is not None and any(e["type"] == "json_invalid" for e in errors):
        # JSON that pydantic's parser refuses and Python's reads (an unpaired surrogate's \u
        # escape): checked as objects, so that the error is located where the surrogate is.
        try:
            return Graph.model_validate(parsed)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
    return validation_body(errors, parsed)


def refusal(kind: str, status: int, error: ErrorResponse, graph: Graph | None) -> tuple[int, bytes]:
    """The answer about a request with errors. Validating a graph document that has some has
    succeeded: a 200 with valid false, the same errors and each node's line (the editor validates
    every half-built graph, and a 422 would be a failed request in the browser's console);
    evaluate's is the 422. A body that is no graph document (`graph` None: it breaks the format's
    schema) is refused by both."""
    if kind == "validate" and status == 422 and graph is not None:
        return 200, ascii_json(invalid_graph(error, spelled_nodes(graph)))
    return status, error_json(error)


def handle(
    engine: Engine, kind: str, body: bytes, options: dict[str, Any] | None, where: mmap.mmap
) -> tuple[int, bytes]:
    """One job: the HTTP status and JSON body of the answer."""
    graph = parse(body)
    if not isinstance(graph, Graph):
        return refusal(kind, *graph, None)
    try:
        if kind == "validate":
            return 200, engine.validate(graph).model_dump_json().encode()
        if kind == "per_sample":
            o = options or {}
            return 200, engine.per_sample(graph, o.get("sample", 0), o.get("batch")).model_dump_json().encode()
        if kind == "gradcheck":
            budget = (options or {}).get("max_elements")
            return 200, engine.gradcheck(graph, budget).model_dump_json().encode()
        opts = PayloadOptions.model_validate(options or {})
        return 200, engine.evaluate(graph, opts, Whereabouts(where)).model_dump_json().encode()
    except GraphErrors as exc:
        return refusal(kind, exc.status, graph_errors_body(exc), graph)


def internal_error(exc: BaseException) -> tuple[int, bytes]:
    """A bug of dagrad's: said so, in the documented format, and logged with its traceback."""
    traceback.print_exception(exc, file=sys.stderr)
    error = GraphError(
        code="runtime", message=f"dagrad failed unexpectedly ({type(exc).__name__}: {exc}); please report it."
    )
    return 500, error_json(ErrorResponse(detail="internal error", errors=[error]))


def serve(conn: Connection, engine: Engine, where: mmap.mmap) -> None:
    """A worker's life: jobs until the server closes the socket."""
    while True:
        try:
            kind, body, options = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):  # the server is gone
            return
        _write(where, b"")
        if kind == "train":  # a worker forked for one training (api/training.py): its messages, then the end
            conn.send_bytes(pickle.dumps(("end", *training(engine, body, options or {}, conn))))
            return
        try:
            answer = handle(engine, kind, body, options, where)
        except Exception as exc:
            answer = internal_error(exc)
        conn.send_bytes(pickle.dumps(answer))


def training(engine: Engine, body: bytes, options: dict[str, Any], conn: Connection) -> tuple[int, bytes]:
    """A training job (api/train_job.py), its body refused as evaluate refuses one."""
    graph = parse(body)
    try:
        if not isinstance(graph, Graph):
            status, content = refusal("train", *graph, None)
        else:
            status, content = train_job(engine, graph, options, conn)
    except Exception as exc:
        status, content = internal_error(exc)
    if options.get("stream") and status != 200 and not content.startswith(b'{"type"'):
        content = error_message(status, content).encode()
    return status, content


def _threads_each(settings: Settings) -> int:
    """The cores shared among the runs that may go at once."""
    return max(1, (os.cpu_count() or 1) // settings.max_concurrent_runs)


def fork_worker(control: socket.socket, engine: Engine) -> None:
    """Fork one worker; send its pid, socket and `where` to the server."""
    ours, theirs = socket.socketpair()
    with tempfile.TemporaryFile() as where_file:
        where_file.truncate(WHERE_BYTES)
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                control.close()
                theirs.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                torch.set_num_threads(engine.settings.worker_threads or _threads_each(engine.settings))
                serve(Connection(ours.detach()), engine, mmap.mmap(where_file.fileno(), WHERE_BYTES))
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        socket.send_fds(control, [str(pid).encode()], [theirs.fileno(), where_file.fileno()])
    ours.close()
    theirs.close()


def template(control: socket.socket, settings_json: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the workers as they end
    # Validation runs small kernels (compiler/kernels.py): on one thread, so that no OpenMP thread
    # pool exists to be lost across fork (a child's first parallel op would wait for it forever).
    torch.set_num_threads(1)
    engine = Engine(Settings.model_validate_json(settings_json))
    for graph in examples.load_all().values():
        with contextlib.suppress(GraphErrors):  # a server's limits may refuse an example: still warm
            engine.validate(graph)
    while control.recv(1):  # b"f": one more worker; b"": the server is gone
        fork_worker(control, engine)


if __name__ == "__main__":
    control_fd, settings_arg = sys.argv[1:3]
    template(socket.socket(fileno=int(control_fd)), settings_arg)

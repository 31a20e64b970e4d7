"""A worker process: parses, compiles and runs graphs away from the server's event loop.

The server (api/workers.py) starts it as `python -m dagrad.api.worker_main SOCKET_FD WHERE_FD
SETTINGS_JSON` and talks to it over that socket.
It answers "ready" once PyTorch is imported and every example has been validated (PyTorch loads
its meta kernels lazily), then takes one job at a time: a pickled (kind, body, options), where
body is the request's raw JSON, and answers a pickled (status, JSON bytes): the whole HTTP
answer, built here, so that the server only relays it. Before each node it writes the node's id
into `where`, a file mapping shared with the server, which reads it when it has to stop the
process at the time limit.
It exits when the server closes the pipe.
"""

from __future__ import annotations

import contextlib
import mmap
import pickle
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

from pydantic import ValidationError

from dagrad import examples
from dagrad.api.error_handlers import graph_errors_body, parsed_json, validation_body
from dagrad.engine import Engine
from dagrad.errors import GraphError, GraphErrors
from dagrad.graph_format import Graph
from dagrad.interpreter import Observer
from dagrad.plan import PlannedNode
from dagrad.results import ErrorResponse, PayloadOptions
from dagrad.settings import Settings

READY = b"ready"
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


def handle(
    engine: Engine, kind: str, body: bytes, options: dict[str, Any] | None, where: mmap.mmap
) -> tuple[int, bytes]:
    """One job: the HTTP status and JSON body of the answer."""
    try:
        graph = Graph.model_validate_json(body)
    except ValidationError as exc:
        status, error = validation_body(exc.errors(include_url=False), parsed_json(body))
        return status, error.model_dump_json().encode()
    try:
        if kind == "validate":
            return 200, engine.validate(graph).model_dump_json().encode()
        opts = PayloadOptions.model_validate(options or {})
        return 200, engine.evaluate(graph, opts, Whereabouts(where)).model_dump_json().encode()
    except GraphErrors as exc:
        return exc.status, graph_errors_body(exc).model_dump_json().encode()


def internal_error(exc: BaseException) -> tuple[int, bytes]:
    """A bug of dagrad's: said so, in the documented format, and logged with its traceback."""
    traceback.print_exception(exc, file=sys.stderr)
    error = GraphError(
        code="runtime", message=f"dagrad failed unexpectedly ({type(exc).__name__}: {exc}); please report it."
    )
    return 500, ErrorResponse(detail="internal error", errors=[error]).model_dump_json().encode()


def main(conn: Connection, settings_json: str, where: mmap.mmap) -> None:
    settings = Settings.model_validate_json(settings_json)
    engine = Engine(settings)
    for graph in examples.load_all().values():
        with contextlib.suppress(GraphErrors):  # a server's limits may refuse an example: still warm
            engine.validate(graph)
    conn.send_bytes(READY)
    while True:
        try:
            kind, body, options = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):  # the server is gone
            return
        _write(where, b"")
        try:
            answer = handle(engine, kind, body, options, where)
        except Exception as exc:
            answer = internal_error(exc)
        conn.send_bytes(pickle.dumps(answer))


if __name__ == "__main__":
    socket_fd, where_fd, settings_arg = sys.argv[1:4]
    main(Connection(int(socket_fd)), settings_arg, mmap.mmap(int(where_fd), WHERE_BYTES))

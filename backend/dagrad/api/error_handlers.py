"""Every failure becomes a 4xx with a list of located errors, never a bare 500.

- GraphErrors (from compiling or running a graph): 422, errors as raised (503 when the server
  is busy, with Retry-After);
- request validation (malformed JSON, a missing field): 400 for unparsable JSON (not UTF-8, or
  nested too deeply to parse), 422 otherwise, each error located on the node it concerns where
  possible;
- HTTP errors (an unknown example, an unknown path): their status, in the same format; anything
  unexpected, a 500 in it too.

The bodies are made by plain functions, so that a worker process (api/worker_main.py), which
parses and runs graphs away from the server's event loop, answers in the same format. Every body
is written in ASCII (`error_json`): an error may quote what the client sent, and a JSON string can
carry an unpaired surrogate that UTF-8 cannot encode (JSON's \\u escapes can).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from dagrad.compiler import CompileErrors
from dagrad.errors import BackwardFailed, ErrorCode, GraphError, GraphErrors, not_text
from dagrad.report.response import node_meta
from dagrad.results import BackwardGraph, ErrorResponse, InvalidGraph

log = logging.getLogger(__name__)

# What each status means, for every route's OpenAPI `responses` (documented()).
STATUSES = {
    400: "Malformed JSON: not UTF-8, not parsable, or nested too deeply to parse.",
    401: "A token is missing or wrong: the server has a class token (DAGRAD_TOKEN), to send as the cookie "
    "dagrad_token or as Authorization: Bearer (api/auth.py).",
    403: "Not allowed: a presenter's control without its key or the teacher token.",
    404: "No such resource.",
    413: "Request body too large.",
    422: "The request has errors, each on its node and port.",
    429: "Too many at once: rooms open, a room's followers, or a room's states a second.",
    500: "An unexpected failure: a bug in dagrad, to report; the body still lists it.",
    503: "Every run slot or worker stayed busy; try again after Retry-After seconds.",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, each with the ErrorResponse body."""
    return {s: {"model": ErrorResponse, "description": STATUSES[s]} for s in statuses}


def ascii_json(body: BaseModel, exclude: set[str] | None = None) -> bytes:
    return json.dumps(
        body.model_dump(mode="json", exclude=exclude), ensure_ascii=True, allow_nan=False, separators=(",", ":")
    ).encode("ascii")


def error_json(body: ErrorResponse) -> bytes:
    leave_out = {"backward_graph"} if body.backward_graph is None else None  # only a failed backward has one
    return ascii_json(body, leave_out)


def invalid_graph(error: ErrorResponse, lines: dict[str, str]) -> InvalidGraph:
    """validate's answer about a graph with errors: the 422's body, with valid false."""
    return InvalidGraph(detail=error.detail, errors=error.errors, nodes=error.nodes, torch=lines)


def error_body(detail: str, errors: list[GraphError], metas: dict[str, Any] | None = None) -> ErrorResponse:
    return ErrorResponse(detail=detail, errors=errors, nodes={k: node_meta(v) for k, v in (metas or {}).items()})


def graph_errors_body(exc: GraphErrors) -> ErrorResponse:
    metas = exc.metas if isinstance(exc, CompileErrors) else None
    count = len(exc.errors)
    body = error_body(f"the graph has {count} error{'s' if count != 1 else ''}", exc.errors, metas)
    if isinstance(exc, BackwardFailed) and isinstance(exc.backward_graph, BackwardGraph):
        body.backward_graph = exc.backward_graph
    return body


def _node_id(body: Any, loc: tuple[Any, ...]) -> str | None:
    """('nodes', 3, 'op') -> the id of nodes[3], when it has one (else the message's 'nodes.3'
    is all there is to locate it by)."""
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int) and isinstance(body, dict):
        nodes = body.get("nodes")
        if isinstance(nodes, list) and loc[1] < len(nodes) and isinstance(nodes[loc[1]], dict):
            node_id = nodes[loc[1]].get("id")
            return node_id if isinstance(node_id, str) else None
    return None


def validation_body(errors: list[Any], body: Any) -> tuple[int, ErrorResponse]:
    """pydantic's errors of a graph document (locations within the document), and the document
    as parsed JSON (or None), as a status and a body."""
    located: list[GraphError] = []
    status = 422
    for err in errors:
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            status = 400
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            located.append(GraphError(code="malformed", message=f"the body is not valid JSON: {reason}."))
            continue
        node = _node_id(body, loc)
        where = ".".join(str(p) for p in loc) or "body"
        field = str(loc[2]) if node is not None and len(loc) > 2 else None
        port = str(loc[3]) if field == "inputs" and len(loc) > 3 else None
        if field in ("inputs", "attrs") and len(loc) > 3:  # the port, or the attribute, itself
            field = None if field == "inputs" else str(loc[3])
        # A validator's own sentence (meta.exercise's checks) reads without pydantic's prefix.
        message = f"{where}: {str(err.get('msg')).removeprefix('Value error, ')}"
        if err.get("type") == "string_unicode" and isinstance(err.get("input"), str):  # a constrained str field
            message = not_text(where, err["input"])
        located.append(GraphError(node=node, port=port, attribute=field, code="malformed", message=message))
    detail = "malformed JSON" if status == 400 else "the request does not follow the graph format"
    return status, error_body(detail, located)


def parse_failure(raw: bytes) -> tuple[Any, ErrorResponse | None]:
    """The body as JSON, to locate errors on node ids; when it is no JSON at all, why, in the
    user's terms (not UTF-8, or nested too deeply to parse), else None."""
    try:
        return json.loads(raw), None
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1].hex()
        message = f"the body is not valid UTF-8 (byte 0x{bad} at position {exc.start}); send the graph as UTF-8 JSON."
    except RecursionError:
        message = (
            "the body nests arrays and objects too deeply to parse; a graph needs a few levels, and a literal "
            "at most 64 (one per dimension)."
        )
    except ValueError:
        return None, None  # pydantic's own message says where the JSON breaks
    return None, error_body("malformed JSON", [GraphError(code="malformed", message=message)])


def error_response(status: int, body: ErrorResponse, headers: dict[str, str] | None = None) -> Response:
    return Response(error_json(body), status_code=status, headers=headers, media_type="application/json")


async def on_graph_errors(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphErrors)
    return error_response(exc.status, graph_errors_body(exc), exc.headers)


async def on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # FastAPI's locations start with where the value came from ('body', 'query', ...)
    errors = [{**e, "loc": tuple(e.get("loc", ()))[1:]} for e in exc.errors()]
    status, body = validation_body(errors, exc.body)
    return error_response(status, body)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    codes: dict[int, ErrorCode] = {401: "unauthorized", 404: "not_found", 413: "limit"}
    error = GraphError(code=codes.get(exc.status_code, "malformed"), message=message)
    return error_response(exc.status_code, error_body(message.split(";")[0], [error]), dict(exc.headers or {}))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged, and answered in the documented format (the server still re-raises it)."""
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    message = f"dagrad failed unexpectedly ({type(exc).__name__}: {text}); this is a bug, please report it."
    return error_response(500, error_body("internal error", [GraphError(code="runtime", message=message)]))


def install(app: FastAPI) -> None:
    app.add_exception_handler(GraphErrors, on_graph_errors)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

"""Every failure becomes a 4xx with a list of located errors, never a bare 500.

- GraphErrors (from compiling or running a graph): 422, errors as raised (503 when the server
  is busy, with Retry-After);
- request validation (malformed JSON, a missing field): 400 for unparsable JSON,
  422 otherwise, each error located on the node it concerns where possible.

The bodies are made by plain functions, so that a worker process (api/worker_main.py), which
parses and runs graphs away from the server's event loop, answers in the same format.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from dagrad.compiler import CompileErrors
from dagrad.errors import GraphError, GraphErrors
from dagrad.report.response import node_meta
from dagrad.results import ErrorResponse


def error_body(detail: str, errors: list[GraphError], metas: dict[str, Any] | None = None) -> ErrorResponse:
    return ErrorResponse(detail=detail, errors=errors, nodes={k: node_meta(v) for k, v in (metas or {}).items()})


def graph_errors_body(exc: GraphErrors) -> ErrorResponse:
    metas = exc.metas if isinstance(exc, CompileErrors) else None
    count = len(exc.errors)
    return error_body(f"the graph has {count} error{'s' if count != 1 else ''}", exc.errors, metas)


def _node_id(body: Any, loc: tuple[Any, ...]) -> str | None:
    """('nodes', 3, 'op') -> the id of nodes[3], when the body has one."""
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int) and isinstance(body, dict):
        nodes = body.get("nodes")
        if isinstance(nodes, list) and loc[1] < len(nodes) and isinstance(nodes[loc[1]], dict):
            node_id = nodes[loc[1]].get("id")
            return node_id if isinstance(node_id, str) else f"nodes[{loc[1]}]"
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
        located.append(GraphError(node=node, attribute=field, code="malformed", message=f"{where}: {err.get('msg')}"))
    detail = "malformed JSON" if status == 400 else "the request does not follow the graph format"
    return status, error_body(detail, located)


def parsed_json(raw: bytes) -> Any:
    """The body as JSON, to locate errors on node ids; None when it is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def json_response(status: int, body: ErrorResponse, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


async def on_graph_errors(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GraphErrors)
    return json_response(exc.status, graph_errors_body(exc), exc.headers)


async def on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # FastAPI's locations start with where the value came from ('body', 'query', ...)
    errors = [{**e, "loc": tuple(e.get("loc", ()))[1:]} for e in exc.errors()]
    status, body = validation_body(errors, exc.body)
    return json_response(status, body)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GraphErrors, on_graph_errors)
    app.add_exception_handler(RequestValidationError, on_request_validation)

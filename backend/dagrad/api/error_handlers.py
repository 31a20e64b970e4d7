"""Every failure becomes a 4xx with a list of located errors, never a bare 500.

- GraphErrors (from compiling or running a graph): 422, errors as raised;
- request validation (malformed JSON, a missing field): 400 for unparsable JSON,
  422 otherwise, each error located on the node it concerns where possible.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from dagrad.compiler import CompileErrors
from dagrad.errors import GraphError, GraphErrors
from dagrad.report.response import node_meta
from dagrad.results import ErrorResponse


def error_response(
    status: int, detail: str, errors: list[GraphError], metas: dict[str, Any] | None = None
) -> JSONResponse:
    body = ErrorResponse(detail=detail, errors=errors, nodes={k: node_meta(v) for k, v in (metas or {}).items()})
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


async def on_graph_errors(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GraphErrors)
    metas = exc.metas if isinstance(exc, CompileErrors) else None
    count = len(exc.errors)
    return error_response(exc.status, f"the graph has {count} error{'s' if count != 1 else ''}", exc.errors, metas)


def _node_id(body: Any, loc: tuple[Any, ...]) -> str | None:
    """('body', 'nodes', 3, 'op') -> the id of nodes[3], when the body has one."""
    if len(loc) >= 3 and loc[1] == "nodes" and isinstance(loc[2], int) and isinstance(body, dict):
        nodes = body.get("nodes")
        if isinstance(nodes, list) and loc[2] < len(nodes) and isinstance(nodes[loc[2]], dict):
            node_id = nodes[loc[2]].get("id")
            return node_id if isinstance(node_id, str) else f"nodes[{loc[2]}]"
    return None


async def on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[GraphError] = []
    status = 422
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            status = 400
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            errors.append(
                GraphError(
                    code="malformed",
                    message=f"the body is not valid JSON: {reason} (at character {loc[-1] if loc else '?'}).",
                )
            )
            continue
        node = _node_id(exc.body, loc)
        where = ".".join(str(p) for p in loc[1:]) or "body"
        field = str(loc[3]) if node is not None and len(loc) > 3 else None
        errors.append(GraphError(node=node, attribute=field, code="malformed", message=f"{where}: {err.get('msg')}"))
    detail = "malformed JSON" if status == 400 else "the request does not follow the graph format"
    return error_response(status, detail, errors)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GraphErrors, on_graph_errors)
    app.add_exception_handler(RequestValidationError, on_request_validation)

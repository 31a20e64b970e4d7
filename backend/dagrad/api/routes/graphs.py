"""POST /api/validate and /api/evaluate, and the graph format's JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dagrad import engine
from dagrad.api.deps import SettingsDep
from dagrad.graph_format import Graph
from dagrad.results import ErrorResponse, EvaluateResponse, PayloadOptions, ValidateResponse

router = APIRouter(prefix="/api", tags=["graphs"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON."},
    413: {"model": ErrorResponse, "description": "Request body too large."},
    422: {"model": ErrorResponse, "description": "The graph has errors, each on its node and port."},
    503: {"model": ErrorResponse, "description": "Every run slot stayed busy; try again."},
}


# Both routes are async: a small graph is compiled and run on the event loop (engine.small,
# engine.evaluate_if_small), anything bigger in a worker thread, which keeps the loop free.


@router.post("/validate", operation_id="graphs-validate", responses=ERRORS)
async def validate(graph: Graph, settings: SettingsDep) -> ValidateResponse:
    """Check a graph and infer every node's shape, without allocating or running anything."""
    if engine.small(graph, settings):
        return engine.validate(graph, settings)
    return await run_in_threadpool(engine.validate, graph, settings)


@router.post("/evaluate", operation_id="graphs-evaluate", response_model=EvaluateResponse, responses=ERRORS)
async def evaluate(
    graph: Graph,
    settings: SettingsDep,
    encoding: Annotated[
        Literal["base64", "list"], Query(description="Tensor data as base64 or JSON lists.")
    ] = "base64",
    max_elements: Annotated[int | None, Query(ge=0, description="Tensors up to this size carry data.")] = None,
    full: Annotated[
        str | None, Query(description="Comma-separated node ids whose tensors come whole; '*' for all.")
    ] = None,
) -> Response:
    """Run forward (and backward when run.output is set); return every node's value and gradient."""
    options = PayloadOptions(
        encoding=encoding,
        max_elements=max_elements,
        full=[s.strip() for s in full.split(",") if s.strip()] if full else [],
    )
    # Serialised directly: the model was built by the engine, re-validating it would only cost time.
    result = engine.evaluate_if_small(graph, options, settings)
    if result is not None:
        return Response(content=result.model_dump_json(), media_type="application/json")
    body = await run_in_threadpool(lambda: engine.evaluate(graph, options, settings).model_dump_json())
    return Response(content=body, media_type="application/json")


@router.get("/schema/graph", operation_id="graphs-schema")
def graph_schema() -> dict[str, Any]:
    """The JSON Schema of the graph format (version 1)."""
    return Graph.model_json_schema()

"""POST /api/validate and /api/evaluate, and the graph format's JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dagrad.api.deps import EngineDep
from dagrad.graph_format import Graph
from dagrad.results import ErrorResponse, EvaluateResponse, PayloadOptions, ValidateResponse

router = APIRouter(prefix="/api", tags=["graphs"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON."},
    413: {"model": ErrorResponse, "description": "Request body too large."},
    422: {"model": ErrorResponse, "description": "The graph has errors, each on its node and port."},
    503: {"model": ErrorResponse, "description": "Every run slot stayed busy; try again."},
}


# Both routes are async: a graph small enough is compiled on the event loop (Engine.compiles_inline),
# and run there when its plan is cheap and a run slot is free (Engine.runs_inline); anything else
# goes to a worker thread, which keeps the loop free. Each request is compiled once.


@router.post("/validate", operation_id="graphs-validate", responses=ERRORS)
async def validate(graph: Graph, engine: EngineDep) -> ValidateResponse:
    """Check a graph and infer every node's shape, without allocating or running anything."""
    if engine.compiles_inline(graph):
        return engine.validate(graph)
    return await run_in_threadpool(engine.validate, graph)


@router.post("/evaluate", operation_id="graphs-evaluate", response_model=EvaluateResponse, responses=ERRORS)
async def evaluate(
    graph: Graph,
    engine: EngineDep,
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
    if not engine.compiles_inline(graph):
        body = await run_in_threadpool(lambda: engine.evaluate(graph, options).model_dump_json())
        return Response(content=body, media_type="application/json")
    compiled = engine.compile(graph)
    result = engine.run_if_free(compiled, options) if engine.runs_inline(compiled.plan) else None
    if result is not None:
        return Response(content=result.model_dump_json(), media_type="application/json")
    body = await run_in_threadpool(lambda: engine.run(compiled, options).model_dump_json())
    return Response(content=body, media_type="application/json")


@router.get("/schema/graph", operation_id="graphs-schema")
def graph_schema() -> dict[str, Any]:
    """The JSON Schema of the graph format (version 1)."""
    return Graph.model_json_schema()

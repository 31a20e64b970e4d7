"""POST /api/validate, /api/evaluate, /api/gradcheck, /api/per_sample and /api/receptive_field, and the graph format's JSON Schema.

validate answers 200 about any graph document it can read, `valid: false` with the errors when
it has some; evaluate refuses such a graph with a 422 that lists the same errors.

Both hand the request's raw body to a worker process (api/workers.py), which parses, compiles
and runs the graph and builds the whole answer; this process only relays it. The body is
documented as a Graph in the OpenAPI schema, but not parsed here: parsing a large literal would
hold the event loop.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from dagrad.api.deps import PoolDep
from dagrad.api.workers import ClientGone, Slot
from dagrad.errors import GraphError, GraphErrors
from dagrad.graph_format import Graph
from dagrad.results import (
    ErrorResponse,
    EvaluateResponse,
    GradcheckResponse,
    PayloadOptions,
    PerSampleResponse,
    ReceptiveFieldResponse,
    Validation,
)

router = APIRouter(prefix="/api", tags=["graphs"])

REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON."},
    413: {"model": ErrorResponse, "description": "Request body too large."},
    503: {
        "model": ErrorResponse,
        "description": "Every run slot stayed busy; try again after Retry-After seconds.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
        },
    },
}
# evaluate refuses a graph with errors; validate answers 200 about it (valid false, the same errors).
ERRORS = {**REFUSED, 422: {"model": ErrorResponse, "description": "The graph has errors, each on its node and port."}}
VALIDATE_ERRORS = {
    **REFUSED,
    422: {
        "model": ErrorResponse,
        "description": "The body is not sent as JSON (its Content-Type), so there is no graph to check. "
        "A graph with errors is answered 200, valid false.",
    },
}
# The body, as the schema shows it: a graph document (parsed by the worker).
GRAPH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Graph"}}},
    }
}


class RelayedResponse(Response):
    """A worker's JSON answer; the run slot is released once it has been written (or failed to)."""

    def __init__(self, content: bytes, status_code: int, slot: Slot) -> None:
        super().__init__(content=content, status_code=status_code, media_type="application/json")
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


def _not_json(request: Request) -> GraphErrors | None:
    """A body declared as something else than JSON (a form, text) is refused, saying how to send it."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    message = f"the body is sent as {media!r}. Send the graph as JSON, with the header Content-Type: application/json."
    return GraphErrors([GraphError(code="malformed", message=message)])


async def _relay(request: Request, pool: Any, kind: str, options: dict[str, Any] | None) -> Response:
    deadline = time.monotonic() + pool.settings.queue_seconds
    if (refused := _not_json(request)) is not None:
        raise refused
    body = await request.body()

    async def hung_up() -> None:  # returns when the client goes away before its answer
        while (await request.receive())["type"] != "http.disconnect":
            pass

    slot = await pool.slot(kind, deadline)
    try:
        status, content = await pool.run(kind, body, options, deadline, hung_up)
    except ClientGone:
        slot.release()
        return Response(status_code=499)  # nobody reads it
    except BaseException:
        slot.release()
        raise
    return RelayedResponse(content, status, slot)


@router.post(
    "/validate",
    operation_id="graphs-validate",
    response_model=Validation,
    responses=VALIDATE_ERRORS,
    openapi_extra=GRAPH_BODY,
)
async def validate(request: Request, pool: PoolDep) -> Response:
    """Check a graph and infer every node's shape, without allocating or running anything.

    A graph with errors is a validation that found them: 200, `valid: false`, and the errors (each
    on its node and port) that evaluate's 422 would list. 4xx only for a request that is not a
    graph document to check: malformed JSON, not sent as JSON, too large, or every worker busy."""
    return await _relay(request, pool, "validate", None)


@router.post(
    "/evaluate",
    operation_id="graphs-evaluate",
    response_model=EvaluateResponse,
    responses=ERRORS,
    openapi_extra=GRAPH_BODY,
)
async def evaluate(
    request: Request,
    pool: PoolDep,
    encoding: Annotated[
        Literal["base64", "list"], Query(description="Tensor data as base64 or JSON lists.")
    ] = "base64",
    max_elements: Annotated[int | None, Query(ge=0, description="Tensors up to this size carry data.")] = None,
    full: Annotated[
        str | None, Query(description="Comma-separated node ids whose tensors come whole; '*' for all.")
    ] = None,
    backward_graph: Annotated[
        bool, Query(description="Also return the autograd graph the run built (its nodes, edges and saved tensors).")
    ] = False,
    backward_steps: Annotated[
        bool,
        Query(
            description="Also record each backward pass as PyTorch executed it: every autograd node in order, "
            "the gradients that arrived and those it sent on (implies backward_graph)."
        ),
    ] = False,
) -> Response:
    """Run forward (and backward when run.output is set); return every node's value and gradient, and
    how the run stands against the exercise's checks (meta.exercise.checks) when it has some."""
    options = PayloadOptions(
        encoding=encoding,
        max_elements=max_elements,
        full=[s.strip() for s in full.split(",") if s.strip()] if full else [],
        backward_graph=backward_graph,
        backward_steps=backward_steps,
    )
    return await _relay(request, pool, "evaluate", options.model_dump())


@router.post(
    "/gradcheck",
    operation_id="graphs-gradcheck",
    response_model=GradcheckResponse,
    responses=ERRORS,
    openapi_extra=GRAPH_BODY,
)
async def gradcheck(
    request: Request,
    pool: PoolDep,
    max_elements: Annotated[
        int | None,
        Query(
            ge=1,
            description="Most elements to move, over all nodes (two forward runs each); the server's default if unset.",
        ),
    ] = None,
) -> Response:
    """Compare every gradient the graph's run returns with central finite differences, in float64
    with one backward pass, as torch.autograd.gradcheck does; above max_elements, a seeded sample."""
    return await _relay(request, pool, "gradcheck", {"max_elements": max_elements})


@router.post(
    "/per_sample",
    operation_id="graphs-per-sample",
    response_model=PerSampleResponse,
    responses=ERRORS,
    openapi_extra=GRAPH_BODY,
)
async def per_sample(
    request: Request,
    pool: PoolDep,
    sample: Annotated[int, Query(ge=0, description="The sample whose input and gradients come in full.")] = 0,
    batch: Annotated[
        str | None,
        Query(
            description="Comma-separated batch sources; default: every source that does not require grad and "
            "whose first size is the first input's."
        ),
    ] = None,
) -> Response:
    """Each sample's gradient with respect to each parameter (torch.func.vmap over grad, or a loop),
    and how far their sum and their mean are from the batch gradient."""
    named = [s.strip() for s in batch.split(",") if s.strip()] if batch else None
    return await _relay(request, pool, "per_sample", {"sample": sample, "batch": named})


def _index(text: str) -> list[int]:
    """'0,3,5,7' -> [0, 3, 5, 7]; a located 422 for anything else."""
    try:
        return [int(part) for part in text.split(",")] if text.strip() else []
    except ValueError:
        message = f"index {text!r} is not a list of integers: write one per dimension, e.g. index=0,3,5,7."
        raise GraphErrors([GraphError(code="value", message=message)]) from None


@router.post(
    "/receptive_field",
    operation_id="graphs-receptive-field",
    response_model=ReceptiveFieldResponse,
    responses=ERRORS,
    openapi_extra=GRAPH_BODY,
)
async def receptive_field(
    request: Request,
    pool: PoolDep,
    node: Annotated[str, Query(min_length=1, max_length=100, description="The node whose element was clicked.")],
    index: Annotated[str, Query(description="The element's index, one integer per dimension: 0,3,5,7.")],
) -> Response:
    """The receptive field of one element of a node's value, on every node upstream of it: the
    elements that can influence it whatever the data (from the ops' attributes), and those where
    its gradient (torch.autograd.grad with a one-hot grad_outputs) is non-zero for this run."""
    return await _relay(request, pool, "receptive_field", {"node": node, "index": _index(index)})


@router.get("/schema/graph", operation_id="graphs-schema")
def graph_schema() -> dict[str, Any]:
    """The JSON Schema of the graph format (version 1)."""
    return Graph.model_json_schema()

"""POST /api/train (to the end, for scripts) and the WebSocket /api/train/ws (live, for the page).

Both run the training in a worker process forked for it (api/training.py) and only relay here.
The WebSocket's protocol (JSON messages; docs/graph-format.md, "Training"):

    client -> server  {"type": "start", "graph": {...}}, then {"type": "pause" | "resume" | "step" | "stop"}
    server -> client  started, progress (several steps each, at most ~20 a second), snapshot (every
                      snapshot_every steps and when paused or ended), paused, done, error

A training that ends (done or error) leaves the socket open for the next start; a socket that
closes ends its training: the process is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response

from dagrad.api.deps import PoolDep
from dagrad.api.error_handlers import error_json, graph_errors_body
from dagrad.api.routes.graphs import ERRORS, GRAPH_BODY, _not_json
from dagrad.api.training import TrainingRuns, TrainingWorker, client_key, ended_early
from dagrad.errors import GraphError, GraphErrors
from dagrad.training.results import TrainResult

router = APIRouter(prefix="/api", tags=["training"])

# The time a training's set-up (compiling its plans, making the dataset) may take beyond max_train_seconds.
SETUP_SECONDS = 60.0


def _runs(conn: Request | WebSocket) -> TrainingRuns:
    runs: TrainingRuns = conn.app.state.training
    return runs


@router.post(
    "/train",
    operation_id="graphs-train",
    response_model=TrainResult,
    responses={**ERRORS, 429: {"model": ERRORS[422]["model"], "description": "Too many trainings at once."}},
    openapi_extra=GRAPH_BODY,
)
async def train(request: Request, pool: PoolDep) -> Response:
    """Train the graph by its `train` section to the end (at most max_train_steps and
    max_train_seconds): the loss history and the trained graph, its parameters as values."""
    if (refused := _not_json(request)) is not None:
        raise refused
    body = await request.body()
    with _runs(request).admitted(client_key(request)):
        job = await TrainingWorker.start(pool, body, stream=False)
        getting = asyncio.ensure_future(job.messages.get())
        hung_up = asyncio.ensure_future(_hung_up(request))
        try:
            limit = pool.settings.max_train_seconds + SETUP_SECONDS
            await asyncio.wait({getting, hung_up}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            job.end()  # the client gone, the time up, or the answer in: the process ends
            hung_up.cancel()
        if not getting.done():
            getting.cancel()
            if hung_up.done():
                return Response(status_code=499)  # nobody reads it
            raise GraphErrors([GraphError(code="limit", message="the training passed its time limit and was stopped.")])
        message = getting.result()
    if message is None:
        raise ended_early()
    _, status, content = message
    return Response(content=content, status_code=status, media_type="application/json")


async def _hung_up(request: Request) -> None:
    """Returns when the client goes away before its answer."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


@router.websocket("/train/ws")
async def train_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    pool = websocket.app.state.pool
    try:
        while True:
            start = await _receive(websocket)
            if start.get("type") != "start" or not isinstance(start.get("graph"), dict):
                if start.get("type") in ("pause", "resume", "step", "stop"):
                    continue  # a control after its training ended: nothing to do
                await _error(websocket, 400, 'the first message must be {"type": "start", "graph": {...}}.')
                continue
            body = json.dumps(start["graph"]).encode()
            try:
                with _runs(websocket).admitted(client_key(websocket)):
                    job = await TrainingWorker.start(pool, body, stream=True)
                    try:
                        await _relay(websocket, job)
                    finally:
                        job.end()
            except GraphErrors as exc:
                await _error_body(websocket, exc.status, json.loads(error_json(graph_errors_body(exc))))
    except WebSocketDisconnect:
        return


async def _relay(websocket: WebSocket, job: TrainingWorker) -> None:
    """The worker's messages to the page and the page's controls to the worker, until the end."""
    controls = asyncio.ensure_future(_controls(websocket, job))
    try:
        while True:
            getting = asyncio.ensure_future(job.messages.get())
            done, _ = await asyncio.wait({getting, controls}, return_when=asyncio.FIRST_COMPLETED)
            if getting not in done:
                getting.cancel()
                controls.result()  # the socket closed: WebSocketDisconnect
                return
            message = getting.result()
            if message is None:
                await _error_body(websocket, 422, json.loads(error_json(graph_errors_body(ended_early()))))
                return
            if message[0] == "msg":
                await websocket.send_text(message[1])
            else:  # ("end", status, content): done, or an error
                await websocket.send_text(message[2].decode())
                return
    finally:
        controls.cancel()
        with contextlib.suppress(BaseException):
            await controls


async def _controls(websocket: WebSocket, job: TrainingWorker) -> None:
    while True:
        message = await _receive(websocket)
        kind = message.get("type")
        if kind in ("pause", "resume", "step", "stop"):
            job.control({"type": kind})
        else:
            await _error(
                websocket, 400, f"while a training runs, messages are pause, resume, step or stop; not {kind!r}."
            )


async def _receive(websocket: WebSocket) -> dict[str, Any]:
    text = await websocket.receive_text()
    try:
        message = json.loads(text)
    except ValueError:
        return {"type": None}
    return message if isinstance(message, dict) else {"type": None}


async def _error(websocket: WebSocket, status: int, message: str) -> None:
    body = {"detail": message, "errors": [{"code": "malformed", "message": message}]}
    await _error_body(websocket, status, body)


async def _error_body(websocket: WebSocket, status: int, body: dict[str, Any]) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_text(json.dumps({"type": "error", "status": status, "body": body}))

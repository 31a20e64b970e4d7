"""Presenter rooms over HTTP and WebSocket (the rooms themselves: api/rooms.py).

    POST   /api/rooms                a new room: its id and its presenter's key (the teacher
                                     token guards it where one is set)
    GET    /api/rooms/{id}           whether it is open
    DELETE /api/rooms/{id}           closed by its presenter (X-Room-Key), followers told
    WS     /api/rooms/{id}/ws        the first message says who: {"role": "present", "key": ...}
                                     sends states, each answered {"type": "ack", "seq": n};
                                     {"role": "follow"} receives the latest state, then each one

The key travels in a message or a header, not in a URL, so that no access log keeps it. A
WebSocket refused after it opened is closed with 4000 + the HTTP status (4404 no such room, 4403
a wrong key, 4429 full) and the reason; a follower that fell behind, with 4408.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, Header, Request, Response, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from dagrad.api.auth import is_teacher
from dagrad.api.error_handlers import documented
from dagrad.api.rooms import CLOSED_FRAME, RoomError, Rooms
from dagrad.errors import GraphError, GraphErrors

router = APIRouter(prefix="/api", tags=["rooms"])


class RoomCreated(BaseModel):
    id: str = Field(description="The room's id: followers open /?room=<id>.")
    key: str = Field(description="The presenter's key: sent to publish or close; given only to the creator.")
    max_message_bytes: int = Field(description="The largest state the room takes.")


class RoomInfo(BaseModel):
    id: str
    followers_here: int = Field(description="Pages following it through this server process.")


def _refused(e: RoomError) -> GraphErrors:
    return GraphErrors([GraphError(code=e.code, message=str(e))], status=e.status)


def _rooms(conn: Request | WebSocket) -> Rooms:
    rooms = conn.app.state.rooms
    assert isinstance(rooms, Rooms)
    return rooms


@router.post("/rooms", status_code=201, operation_id="rooms-create", responses=documented(403, 429))
async def create_room(request: Request) -> RoomCreated:
    settings = request.app.state.settings
    if settings.teacher_token and not is_teacher(request, settings):
        raise GraphErrors(
            [
                GraphError(
                    code="unauthorized",
                    message="opening a room needs the teacher token: give it under Present, or to "
                    "POST /api/auth/teacher, first.",
                )
            ],
            status=403,
        )
    rooms = _rooms(request)
    try:
        rid, key = await rooms.create()
    except RoomError as e:
        raise _refused(e) from e
    return RoomCreated(id=rid, key=key, max_message_bytes=settings.max_room_message_bytes)


@router.get("/rooms/{rid}", operation_id="rooms-get", responses=documented(404, 422))
async def get_room(rid: str, request: Request) -> RoomInfo:
    rooms = _rooms(request)
    try:
        await rooms.require(rid)
    except RoomError as e:
        raise _refused(e) from e
    return RoomInfo(id=rid, followers_here=rooms.local_followers(rid))


@router.delete("/rooms/{rid}", status_code=204, operation_id="rooms-close", responses=documented(403, 404, 422))
async def close_room(
    rid: str, request: Request, x_room_key: str | None = Header(None, description="The presenter's key.")
) -> Response:
    rooms = _rooms(request)
    try:
        await rooms.check_key(rid, x_room_key)
    except RoomError as e:
        raise _refused(e) from e
    await rooms.close(rid)
    return Response(status_code=204)


@router.websocket("/rooms/{rid}/ws")
async def room_socket(websocket: WebSocket, rid: str) -> None:
    rooms = _rooms(websocket)
    await websocket.accept()
    try:
        hello = json.loads(await websocket.receive_text())
        role = hello.get("role") if isinstance(hello, dict) else None
        if role == "present":
            await rooms.check_key(rid, hello.get("key"))
            await _present(websocket, rooms, rid)
        elif role == "follow":
            await _follow(websocket, rooms, rid)
        else:
            await websocket.close(
                4422, 'the first message must be {"role": "present", "key": ...} or {"role": "follow"}'
            )
    except RoomError as e:
        await websocket.close(4000 + e.status, str(e)[:120])
    except (WebSocketDisconnect, ValueError):
        with contextlib.suppress(Exception):
            await websocket.close(4422, "the first message must be JSON")


async def _present(websocket: WebSocket, rooms: Rooms, rid: str) -> None:
    while True:
        try:
            text = await websocket.receive_text()
        except WebSocketDisconnect:
            return
        try:
            seq = await rooms.publish(rid, text)
        except RoomError as e:
            if e.status == 404:
                await websocket.close(4404, str(e)[:120])
                return
            await websocket.send_text(json.dumps({"type": "error", "code": e.code, "message": str(e)}))
            continue
        await websocket.send_text(f'{{"type":"ack","seq":{seq}}}')


async def _follow(websocket: WebSocket, rooms: Rooms, rid: str) -> None:
    follower = await rooms.follow(rid)

    async def send() -> None:
        while True:
            frame = await follower.queue.get()
            if frame is None:
                await websocket.close(4408, "fell behind the room: reconnect for its latest state")
                return
            await websocket.send_text(frame)
            if frame == CLOSED_FRAME:
                await websocket.close(1000, "the presenter closed the room")
                return

    async def receive() -> None:  # a follower sends nothing: this notices when it goes
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    tasks = [asyncio.create_task(send()), asyncio.create_task(receive())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await rooms.leave(rid, follower)

"""Presenter rooms in one process: a presenter's states reach every follower, the latest first for
one who joins late; the key, the sizes, the rate and the counts are bounded, and a follower that
falls behind is dropped rather than holding the room back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from conftest import errors_of, run_on_own_loop
from dagrad.api.app import create_app
from dagrad.api.rooms import Rooms
from dagrad.settings import Settings

LIMITS = {
    "max_rooms": 3,
    "max_followers": 2,
    "max_room_message_bytes": 2048,
    "room_messages_per_second": 50.0,
    "max_concurrent_runs": 1,
    "spare_workers": 0,
}


@pytest.fixture(scope="module")
def rooms_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(**LIMITS))) as c:
        yield c


def open_room(c: TestClient) -> dict[str, Any]:
    made = c.post("/api/rooms")
    assert made.status_code == 201, made.text
    return made.json()


def close_room(c: TestClient, room: dict[str, Any]) -> None:
    assert c.delete(f"/api/rooms/{room['id']}", headers={"x-room-key": room["key"]}).status_code == 204


def state(n: int, pad: int = 0, part: str = "graph") -> str:
    return json.dumps({"part": part, "doc": {"nodes": [], "n": n}, "pad": "x" * pad})


def test_states_reach_followers_and_a_late_one_starts_from_the_latest(rooms_client: TestClient) -> None:
    room = open_room(rooms_client)
    assert rooms_client.get(f"/api/rooms/{room['id']}").json() == {"id": room["id"], "followers_here": 0}
    ws_path = f"/api/rooms/{room['id']}/ws"
    with rooms_client.websocket_connect(ws_path) as teacher, rooms_client.websocket_connect(ws_path) as early:
        early.send_text(json.dumps({"role": "follow"}))
        teacher.send_text(json.dumps({"role": "present", "key": room["key"]}))
        teacher.send_text(state(1))
        assert json.loads(teacher.receive_text()) == {"type": "ack", "seq": 1}
        assert json.loads(early.receive_text()) == {
            "type": "state",
            "seq": 1,
            "part": "graph",
            "state": json.loads(state(1)),
        }
        teacher.send_text(state(2))
        assert json.loads(teacher.receive_text())["seq"] == 2
        assert json.loads(early.receive_text())["state"]["doc"]["n"] == 2
        teacher.send_text(state(3, part="run"))  # another part: kept beside the graph's latest
        assert json.loads(teacher.receive_text())["seq"] == 3
        assert json.loads(early.receive_text())["part"] == "run"
        with rooms_client.websocket_connect(ws_path) as late:
            late.send_text(json.dumps({"role": "follow"}))
            first, second = json.loads(late.receive_text()), json.loads(late.receive_text())
            # The latest of each part, at once, in the order they were sent.
            assert [(f["seq"], f["part"], f["state"]["doc"]["n"]) for f in (first, second)] == [
                (2, "graph", 2),
                (3, "run", 3),
            ]
            assert rooms_client.get(f"/api/rooms/{room['id']}").json()["followers_here"] == 2
        close_room(rooms_client, room)
        assert json.loads(early.receive_text()) == {"type": "closed"}
        with pytest.raises(WebSocketDisconnect) as closed:
            early.receive_text()
        assert closed.value.code == 1000
    missing = rooms_client.get(f"/api/rooms/{room['id']}")
    assert missing.status_code == 404
    assert errors_of(missing)[0]["code"] == "not_found"


def closes_with(c: TestClient, rid: str, hello: Any) -> int:
    with c.websocket_connect(f"/api/rooms/{rid}/ws") as ws:
        ws.send_text(hello if isinstance(hello, str) else json.dumps(hello))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    return closed.value.code


def test_only_the_key_presents_and_an_unknown_room_is_refused(rooms_client: TestClient) -> None:
    room = open_room(rooms_client)
    assert closes_with(rooms_client, room["id"], {"role": "present", "key": "guess"}) == 4403
    assert closes_with(rooms_client, room["id"], {"role": "present"}) == 4403
    assert closes_with(rooms_client, room["id"], {"role": "shout"}) == 4422
    assert closes_with(rooms_client, room["id"], "not json") == 4422
    assert closes_with(rooms_client, "nosuchroom", {"role": "follow"}) == 4404
    wrong = rooms_client.delete(f"/api/rooms/{room['id']}", headers={"x-room-key": "guess"})
    assert wrong.status_code == 403
    assert errors_of(wrong)[0]["code"] == "unauthorized"
    close_room(rooms_client, room)


def test_a_state_too_large_or_not_an_object_is_refused_and_not_passed_on(rooms_client: TestClient) -> None:
    room = open_room(rooms_client)
    ws_path = f"/api/rooms/{room['id']}/ws"
    with rooms_client.websocket_connect(ws_path) as teacher, rooms_client.websocket_connect(ws_path) as student:
        student.send_text(json.dumps({"role": "follow"}))
        teacher.send_text(json.dumps({"role": "present", "key": room["key"]}))
        too_large = state(1, pad=LIMITS["max_room_message_bytes"])
        no_part = json.dumps({"doc": {}})
        for bad, code in [(too_large, "limit"), ("[1, 2]", "malformed"), (no_part, "malformed")]:
            teacher.send_text(bad)
            answer = json.loads(teacher.receive_text())
            assert (answer["type"], answer["code"]) == ("error", code)
        teacher.send_text(state(3))
        assert json.loads(teacher.receive_text())["seq"] == 1  # the refused ones were never numbered
        assert json.loads(student.receive_text())["state"]["doc"]["n"] == 3
    close_room(rooms_client, room)


def test_rooms_and_followers_are_counted(rooms_client: TestClient) -> None:
    opened = [open_room(rooms_client) for _ in range(LIMITS["max_rooms"] - len(_open_now(rooms_client)))]
    full = rooms_client.post("/api/rooms")
    assert full.status_code == 429
    assert errors_of(full)[0]["code"] == "limit"
    room = opened[0]
    ws_path = f"/api/rooms/{room['id']}/ws"
    with rooms_client.websocket_connect(ws_path) as a, rooms_client.websocket_connect(ws_path) as b:
        a.send_text(json.dumps({"role": "follow"}))
        b.send_text(json.dumps({"role": "follow"}))
        assert rooms_client.get(f"/api/rooms/{room['id']}").json()["followers_here"] == 2
        assert closes_with(rooms_client, room["id"], {"role": "follow"}) == 4429
    for r in opened:
        close_room(rooms_client, r)


def _open_now(c: TestClient) -> list[str]:
    rooms = c.app.state.rooms  # type: ignore[attr-defined]
    assert isinstance(rooms, Rooms)
    return list(rooms.store.rooms)  # type: ignore[union-attr]


def test_a_room_takes_states_at_its_rate_at_most() -> None:
    async def go() -> list[str]:
        rooms = Rooms(Settings(room_messages_per_second=3))
        rid, _ = await rooms.create()
        outcomes = []
        for i in range(5):
            try:
                await rooms.publish(rid, state(i))
                outcomes.append("ok")
            except Exception as e:
                outcomes.append(getattr(e, "code", "?"))
        return outcomes

    assert run_on_own_loop(go) == ["ok", "ok", "ok", "limit", "limit"]


def test_a_follower_that_falls_behind_is_dropped_and_the_others_keep_going() -> None:
    async def go() -> tuple[list[str | None], list[str | None]]:
        rooms = Rooms(Settings(room_follower_queue=2))
        rid, _ = await rooms.create()
        slow = await rooms.follow(rid)
        quick = await rooms.follow(rid)
        got_quick: list[str | None] = []
        for i in range(4):
            await rooms.publish(rid, state(i))
            got_quick.append(quick.queue.get_nowait())  # read at once, as a live page does
        got_slow = []
        while not slow.queue.empty():
            got_slow.append(slow.queue.get_nowait())
        assert slow.dropped
        assert not quick.dropped
        return got_slow, got_quick

    slow, quick = run_on_own_loop(go)
    assert [json.loads(f)["seq"] for f in quick if f] == [1, 2, 3, 4]
    # The slow one's queue (2) held states 1 and 2; state 3 found it full: the oldest made room
    # for the end, and nothing more came. Its page reconnects for the latest state.
    assert slow[-1] is None
    assert [json.loads(f)["seq"] for f in slow[:-1] if f] == [2]


def test_where_a_teacher_token_is_set_only_the_teacher_opens_a_room(make_client: Any) -> None:
    c = make_client(teacher_token="chalk")
    refused = c.post("/api/rooms")
    assert refused.status_code == 403
    assert errors_of(refused)[0]["code"] == "unauthorized"
    assert "teacher token" in errors_of(refused)[0]["message"]
    assert c.post("/api/rooms", headers={"authorization": "Bearer nope"}).status_code in {401, 403}
    assert c.post("/api/rooms", headers={"authorization": "Bearer chalk"}).status_code == 201
    assert c.post("/api/auth/teacher", json={"token": "chalk"}).status_code == 204  # the page's way: a cookie
    room = open_room(c)
    with c.websocket_connect(f"/api/rooms/{room['id']}/ws") as student:  # following needs no teacher
        student.send_text(json.dumps({"role": "follow"}))
        assert c.get(f"/api/rooms/{room['id']}").json()["followers_here"] == 1


def test_a_room_keeps_a_few_parts_at_most() -> None:
    async def go() -> list[str]:
        rooms = Rooms(Settings())
        rid, _ = await rooms.create()
        outcomes = []
        for part in ["graph", "run", "a", "b", "c", "graph"]:
            try:
                await rooms.publish(rid, state(0, part=part))
                outcomes.append("ok")
            except Exception as e:
                outcomes.append(getattr(e, "code", "?"))
        return outcomes

    # Four parts kept; a fifth refused; a kept part takes a new state as ever.
    assert run_on_own_loop(go) == ["ok", "ok", "ok", "ok", "malformed", "ok"]

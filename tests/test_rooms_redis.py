"""Presenter rooms across server processes: two dagrad servers sharing one Redis, the presenter
on one and followers on both, as replicas behind a load balancer would have them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from servers import REDIS, dagrad_server, redis_server

pytestmark = pytest.mark.skipif(
    REDIS is None, reason="redis-server is missing: `apt-get install redis-server` (make test installs it as root)"
)


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[str, str]]:
    with (
        redis_server() as redis,
        dagrad_server(DAGRAD_REDIS_URL=redis) as a,
        dagrad_server(DAGRAD_REDIS_URL=redis) as b,
    ):
        yield a, b


def ws(url: str, rid: str) -> str:
    return url.replace("http://", "ws://") + f"/api/rooms/{rid}/ws"


def test_a_presenter_on_one_process_reaches_followers_on_both(two_servers: tuple[str, str]) -> None:
    a, b = two_servers
    room = httpx.post(f"{a}/api/rooms").json()
    assert httpx.get(f"{b}/api/rooms/{room['id']}").status_code == 200  # the room is known to both
    with connect(ws(a, room["id"])) as teacher, connect(ws(a, room["id"])) as near, connect(ws(b, room["id"])) as far:
        for f in (near, far):
            f.send(json.dumps({"role": "follow"}))
        time.sleep(0.2)  # both subscribed before the first state
        teacher.send(json.dumps({"role": "present", "key": room["key"]}))
        for n in (1, 2):
            teacher.send(json.dumps({"part": "graph", "doc": {"n": n}}))
            assert json.loads(teacher.recv(timeout=5)) == {"type": "ack", "seq": n}
            for f in (near, far):
                got = json.loads(f.recv(timeout=5))
                assert (got["seq"], got["part"], got["state"]) == (n, "graph", {"part": "graph", "doc": {"n": n}})
        teacher.send(json.dumps({"part": "run", "run": None}))
        assert json.loads(teacher.recv(timeout=5))["seq"] == 3
        for f in (near, far):
            assert json.loads(f.recv(timeout=5))["part"] == "run"
        # A follower joining on the other process starts from the latest of each part, kept in Redis.
        with connect(ws(b, room["id"])) as late:
            late.send(json.dumps({"role": "follow"}))
            assert [json.loads(late.recv(timeout=5))["seq"] for _ in range(2)] == [2, 3]
        # Closed by its presenter through the other process: every follower is told.
        assert httpx.delete(f"{b}/api/rooms/{room['id']}", headers={"x-room-key": room["key"]}).status_code == 204
        for f in (near, far):
            assert json.loads(f.recv(timeout=5)) == {"type": "closed"}
    assert httpx.get(f"{a}/api/rooms/{room['id']}").status_code == 404


def test_the_wrong_key_is_refused_on_every_process(two_servers: tuple[str, str]) -> None:
    a, b = two_servers
    room = httpx.post(f"{a}/api/rooms").json()
    with connect(ws(b, room["id"])) as impostor:
        impostor.send(json.dumps({"role": "present", "key": "guess"}))
        with pytest.raises(ConnectionClosed) as closed:
            impostor.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403

"""Presenter rooms: a teacher's page publishes its state (the graph, the view, the last run), and
every page that follows the room gets each state as it comes.

`Rooms` is one per app (app.state.rooms), sized by the Settings. It holds the followers
connected to this process, each with a bounded queue: one that falls behind is dropped (its
page reconnects and starts from the latest state), so a slow student never holds the others
back. Where the rooms themselves live depends on the server:
- one process (`make run`, the default): in this object (`_Local`);
- several processes or replicas sharing a Redis (`DAGRAD_REDIS_URL`): in Redis (`_Redis`): each
  room's key digest and latest state are keys that expire, and each state is published on the
  room's channel, which every process with followers of that room subscribes to.

A room's key is its presenter's: made at creation, given to the creator only, kept as a digest.
A state is one JSON object naming its `part` ("graph", "run": the page sends a part only when it
changed, so a node dragged on a large net does not send its results again to every follower);
the room keeps the latest of each part, and a follower who joins gets them all. The server reads a
state only to check that it is one JSON object with a part, within the size limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from dagrad.errors import ErrorCode
from dagrad.settings import Settings

ROOM_ID_BYTES = 6  # 8 url-safe characters: short enough to read out in class
MAX_PARTS = 4  # the page has two; a bound on what a room keeps per presenter
PART = re.compile(r"[a-z]{1,16}")


class RoomError(Exception):
    """Refused: `status` is the HTTP status (404 no such room, 429 too many, 403 wrong key,
    413 too large), `code` the documented error code."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def state_frame(seq: int, part: str, state: str) -> str:
    """What a follower receives: the state as the presenter sent it, numbered."""
    return f'{{"type":"state","seq":{seq},"part":"{part}","state":{state}}}'


_FRAME_SEQ = re.compile(r'\{"type":"state","seq":(\d+),')


def frame_seq(frame: str) -> int:
    """The number state_frame gave a frame, read from its start (a run's frame may be megabytes)."""
    found = _FRAME_SEQ.match(frame)
    assert found is not None, frame[:60]
    return int(found.group(1))


CLOSED_FRAME = '{"type":"closed"}'


def _no_room(rid: str) -> RoomError:
    return RoomError(404, "not_found", f"there is no room {rid!r}: it was closed, or it expired")


@dataclass(eq=False)  # each one itself, in a set
class Follower:
    queue: asyncio.Queue[str | None]
    dropped: bool = False


@dataclass
class _LocalRoom:
    digest: str
    expires: float
    seq: int = 0
    parts: dict[str, tuple[int, str]] = field(default_factory=dict)  # part -> (seq, frame)


class _Local:
    """Rooms in this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rooms: dict[str, _LocalRoom] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        for rid in [r for r, room in self.rooms.items() if room.expires < now]:
            del self.rooms[rid]

    async def create(self, rid: str, digest: str) -> None:
        self._expire()
        if len(self.rooms) >= self.settings.max_rooms:
            raise RoomError(429, "limit", f"this server has {self.settings.max_rooms} rooms open, its most")
        self.rooms[rid] = _LocalRoom(digest, time.monotonic() + self.settings.room_idle_seconds)

    async def digest(self, rid: str) -> str | None:
        self._expire()
        room = self.rooms.get(rid)
        return None if room is None else room.digest

    async def publish(self, rid: str, part: str, state: str) -> tuple[int, str] | None:
        room = self.rooms.get(rid)
        if room is None:
            return None
        room.seq += 1
        frame = state_frame(room.seq, part, state)
        room.parts[part] = (room.seq, frame)
        room.expires = time.monotonic() + self.settings.room_idle_seconds
        return room.seq, frame

    async def parts(self, rid: str) -> set[str]:
        room = self.rooms.get(rid)
        return set() if room is None else set(room.parts)

    async def latest(self, rid: str) -> list[str]:
        """The latest frame of each part, in the order they were sent."""
        room = self.rooms.get(rid)
        return [] if room is None else [frame for _, frame in sorted(room.parts.values())]

    async def close(self, rid: str) -> None:
        self.rooms.pop(rid, None)

    async def count(self) -> int:
        self._expire()
        return len(self.rooms)


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class _Redis:
    """Rooms in Redis, shared by every process and replica that uses the same one."""

    def __init__(self, settings: Settings, url: str) -> None:
        import redis.asyncio as redis  # only a server configured for it needs the package loaded

        self.settings = settings
        self.redis = redis.from_url(url)
        self.prefix = "dagrad:room:"

    def _key(self, rid: str, part: str = "") -> str:
        return f"{self.prefix}{rid}{part}"

    async def create(self, rid: str, digest: str) -> None:
        ttl = int(self.settings.room_idle_seconds)
        now = time.time()
        async with self.redis.pipeline(transaction=True) as p:
            p.zremrangebyscore("dagrad:rooms", "-inf", now)
            p.zcard("dagrad:rooms")
            _, count = await p.execute()
        if count >= self.settings.max_rooms:
            raise RoomError(429, "limit", f"this server has {self.settings.max_rooms} rooms open, its most")
        async with self.redis.pipeline(transaction=True) as p:
            p.set(self._key(rid), digest, ex=ttl)
            p.zadd("dagrad:rooms", {rid: now + ttl})
            await p.execute()

    async def digest(self, rid: str) -> str | None:
        return _text(await self.redis.get(self._key(rid)))

    async def publish(self, rid: str, part: str, state: str) -> tuple[int, str] | None:
        ttl = int(self.settings.room_idle_seconds)
        if not await self.redis.exists(self._key(rid)):
            return None
        seq = await self.redis.incr(self._key(rid, ":seq"))
        frame = state_frame(seq, part, state)
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(self._key(rid, ":parts"), part, frame)
            p.expire(self._key(rid, ":parts"), ttl)
            p.expire(self._key(rid), ttl)
            p.expire(self._key(rid, ":seq"), ttl)
            p.zadd("dagrad:rooms", {rid: time.time() + ttl})
            p.publish(self._key(rid), frame)
            await p.execute()
        return seq, frame

    async def parts(self, rid: str) -> set[str]:
        return {_text(k) or "" for k in await self.redis.hkeys(self._key(rid, ":parts"))}

    async def latest(self, rid: str) -> list[str]:
        frames = [_text(f) or "" for f in (await self.redis.hgetall(self._key(rid, ":parts"))).values()]
        return sorted(frames, key=frame_seq)

    async def close(self, rid: str) -> None:
        async with self.redis.pipeline(transaction=True) as p:
            p.delete(self._key(rid), self._key(rid, ":parts"), self._key(rid, ":seq"))
            p.zrem("dagrad:rooms", rid)
            p.publish(self._key(rid), CLOSED_FRAME)
            await p.execute()

    async def count(self) -> int:
        await self.redis.zremrangebyscore("dagrad:rooms", "-inf", time.time())
        return int(await self.redis.zcard("dagrad:rooms"))


@dataclass
class _Listening:
    """This process's one subscription to Redis, for the rooms it has followers of."""

    pubsub: Any
    task: asyncio.Task[None] | None = None
    rooms: set[str] = field(default_factory=set)


class Rooms:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: _Local | _Redis = _Redis(settings, settings.redis_url) if settings.redis_url else _Local(settings)
        self.followers: dict[str, set[Follower]] = {}  # this process's, by room
        self.listening: _Listening | None = None
        self.sent: dict[str, list[float]] = {}  # each room's recent publish times, for the rate limit

    # --- the presenter --------------------------------------------------------------------------

    async def create(self) -> tuple[str, str]:
        """A new room: its id and its presenter's key."""
        rid = secrets.token_urlsafe(ROOM_ID_BYTES)
        key = secrets.token_urlsafe(24)
        await self.store.create(rid, _digest(key))
        return rid, key

    async def require(self, rid: str) -> str:
        """Room `rid`'s key digest; a 404 RoomError when it is closed or expired."""
        digest = await self.store.digest(rid)
        if digest is None:
            raise _no_room(rid)
        return digest

    async def check_key(self, rid: str, key: str | None) -> None:
        digest = await self.require(rid)
        if key is None or not secrets.compare_digest(digest, _digest(key)):
            raise RoomError(403, "unauthorized", "only the room's presenter, with its key, can do that")

    def check_state(self, rid: str, text: str) -> str:
        """A state the presenter sent: one JSON object with its part, within the size limit and
        the rate; its part."""
        limit = self.settings.max_room_message_bytes
        if len(text.encode()) > limit:
            raise RoomError(413, "limit", f"a room's state may take {limit} bytes; this one takes more")
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise RoomError(422, "malformed", f"a room's state must be JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise RoomError(422, "malformed", "a room's state must be a JSON object")
        part = parsed.get("part")
        if not isinstance(part, str) or not PART.fullmatch(part):
            raise RoomError(422, "malformed", 'a room\'s state names its part: "part": "graph", up to 16 letters a-z')
        now = time.monotonic()
        recent = [t for t in self.sent.get(rid, []) if now - t < 1.0]
        if len(recent) >= self.settings.room_messages_per_second:
            raise RoomError(
                429, "limit", f"a room takes {self.settings.room_messages_per_second:g} states a second at most"
            )
        recent.append(now)
        self.sent[rid] = recent
        return part

    async def publish(self, rid: str, text: str) -> int:
        part = self.check_state(rid, text)
        if part not in (parts := await self.store.parts(rid)) and len(parts) >= MAX_PARTS:
            raise RoomError(422, "malformed", f"a room keeps {MAX_PARTS} parts at most: {sorted(parts)}")
        done = await self.store.publish(rid, part, text)
        if done is None:
            raise _no_room(rid)
        seq, frame = done
        if isinstance(self.store, _Local):  # Redis hands it to every process's listener, this one's too
            self.deliver(rid, frame)
        return seq

    async def close(self, rid: str) -> None:
        await self.store.close(rid)
        if isinstance(self.store, _Local):
            self.deliver(rid, CLOSED_FRAME)
        self.sent.pop(rid, None)

    # --- the followers ----------------------------------------------------------------------------

    async def follow(self, rid: str) -> Follower:
        await self.require(rid)
        mine = self.followers.setdefault(rid, set())
        if len(mine) >= self.settings.max_followers:
            raise RoomError(429, "limit", f"room {rid!r} has {self.settings.max_followers} followers, its most")
        follower = Follower(asyncio.Queue(self.settings.room_follower_queue))
        mine.add(follower)
        if isinstance(self.store, _Redis):
            await self._listen(rid)
        for frame in await self.store.latest(rid):
            self._give(follower, frame)
        return follower

    async def leave(self, rid: str, follower: Follower) -> None:
        mine = self.followers.get(rid)
        if mine is None:
            return
        mine.discard(follower)
        if not mine:
            del self.followers[rid]
            if self.listening is not None and rid in self.listening.rooms:
                self.listening.rooms.discard(rid)
                await self.listening.pubsub.unsubscribe(self.store._key(rid))  # type: ignore[union-attr]

    def deliver(self, rid: str, frame: str) -> None:
        for follower in list(self.followers.get(rid, ())):
            self._give(follower, frame)

    def _give(self, follower: Follower, frame: str) -> None:
        if follower.dropped:
            return
        try:
            follower.queue.put_nowait(frame)
        except asyncio.QueueFull:  # fell behind: dropped, and told so once its queue is read
            follower.dropped = True
            with contextlib.suppress(asyncio.QueueEmpty):
                follower.queue.get_nowait()
            follower.queue.put_nowait(None)

    def local_followers(self, rid: str) -> int:
        return len(self.followers.get(rid, ()))

    # --- Redis ------------------------------------------------------------------------------------

    async def _listen(self, rid: str) -> None:
        assert isinstance(self.store, _Redis)
        if self.listening is None:
            self.listening = _Listening(self.store.redis.pubsub())
        if rid not in self.listening.rooms:
            self.listening.rooms.add(rid)
            await self.listening.pubsub.subscribe(self.store._key(rid))
        if self.listening.task is None or self.listening.task.done():
            self.listening.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.listening is not None
        prefix = self.store._key("")  # type: ignore[union-attr]
        while True:
            message = await self.listening.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                if not self.listening.rooms:
                    return
                continue
            channel = message["channel"].decode()
            self.deliver(channel[len(prefix) :], message["data"].decode())

    async def shutdown(self) -> None:
        if self.listening is not None:
            if self.listening.task is not None:
                self.listening.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self.listening.task
            with contextlib.suppress(Exception):
                await self.listening.pubsub.aclose()
        if isinstance(self.store, _Redis):
            with contextlib.suppress(Exception):
                await self.store.redis.aclose()

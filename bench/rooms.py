"""How long a presenter's state takes to reach a room's followers: one presenter, N followers on
WebSockets, the example graph's state sent M times; the time from send to each follower's
receipt, and whether every follower got every state.

    python bench/rooms.py [--followers 30] [--states 100] [--interval 0.1] [--example tanh_net]
    python bench/rooms.py --url http://127.0.0.1:8000 ...   # a server already running

The state is one of the page's parts (frontend/src/core/room.ts): the graph's (the document and
the view: sent on every edit or move) or the run's (an evaluate of the example's answer: sent
after a run), so its size is a real one. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import uvicorn_process


async def follower(ws_url: str, states: int, got: list[float], ready: asyncio.Event, count: list[int]) -> None:
    async with connect(ws_url, max_size=None) as ws:
        await ws.send(json.dumps({"role": "follow"}))
        count[0] += 1
        if count[0] == count[1]:
            ready.set()
        seen = 0
        while seen < states:
            frame = json.loads(await ws.recv())
            if frame.get("type") != "state":
                continue
            got.append(time.perf_counter() - frame["state"]["sent_at"])
            seen += 1


async def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        doc = (await http.get(f"/api/examples/{args.example}")).json()
        answer = (await http.post("/api/evaluate", json=doc)).json()
        room = (await http.post("/api/rooms")).json()
    ws_url = url.replace("http://", "ws://") + f"/api/rooms/{room['id']}/ws"
    # The page's parts: the graph's (each edit or move) and the run's (after a run); --part picks one.
    if args.part == "graph":
        base = {"part": "graph", "doc": doc, "view": {"mode": "value", "backward": False, "selected": []}}
    else:
        base = {"part": "run", "run": answer, "runErrors": [], "failedBackward": None, "runLeftOut": False}
    size = len(json.dumps(base).encode())
    got: list[float] = []
    ready = asyncio.Event()
    count = [0, args.followers]
    tasks = [asyncio.create_task(follower(ws_url, args.states, got, ready, count)) for _ in range(args.followers)]
    await asyncio.wait_for(ready.wait(), 30)
    await asyncio.sleep(0.2)
    async with connect(ws_url, max_size=None) as teacher:
        await teacher.send(json.dumps({"role": "present", "key": room["key"]}))
        start = time.perf_counter()
        for _ in range(args.states):
            await teacher.send(json.dumps({**base, "sent_at": time.perf_counter()}))
            ack = json.loads(await teacher.recv())
            assert ack["type"] == "ack", ack
            await asyncio.sleep(args.interval)
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        took = time.perf_counter() - start
    ms = sorted(1000 * t for t in got)
    return {
        "example": args.example,
        "part": args.part,
        "followers": args.followers,
        "states": args.states,
        "state_bytes": size,
        "received": len(ms),
        "expected": args.followers * args.states,
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 2),
        "max_ms": round(ms[-1], 2),
        "seconds": round(took, 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url")
    p.add_argument("--followers", type=int, default=30)
    p.add_argument("--states", type=int, default=100)
    p.add_argument("--interval", type=float, default=0.1, help="seconds between states (the page sends at most 10/s)")
    p.add_argument("--example", default="tanh_net")
    p.add_argument("--part", choices=["graph", "run"], default="run", help="which of the page's parts to send")
    args = p.parse_args()
    if args.url:
        print(json.dumps(asyncio.run(run(args.url, args))))
        return
    with uvicorn_process() as (url, _pid):
        print(json.dumps(asyncio.run(run(url, args))))


if __name__ == "__main__":
    main()

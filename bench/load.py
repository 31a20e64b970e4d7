"""Load and soak a dagrad server over HTTP: concurrent clients posting the shipped examples.

    python bench/load.py [--clients 8] [--seconds 20] [--workers 1] [--only dag_4_1] [--json out.json]
    python bench/load.py --url http://127.0.0.1:8000 [--pid PID]   # a server already running

Starts uvicorn on a free loopback port from this checkout (bench/server.py) unless --url names a
server, fetches the examples (GET /api/examples, /api/examples/{name}), then runs --clients
concurrent keep-alive clients for --seconds, each POSTing /api/evaluate with the examples in turn
(a different one first for each client). Prints requests/s, latency percentiles (all and per
example), errors by status, the CPU the server and this load generator used, and the resident
memory of the server process and every process below it at the start, middle and end.

Only HTTP: nothing here knows how the server runs a graph. The clients are one asyncio loop
writing HTTP/1.1 by hand (--client raw, the default) or an httpx.AsyncClient (--client httpx):
on a 2-core machine the load generator shares the CPU with the server, and the raw client costs
far less per request (bench/README.md has the figures). A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import cpu_seconds, rss_kib, tree
from server import uvicorn_process


def listening_pid(port: int) -> int | None:
    """The process holding a listening socket on `port` (for --url without --pid)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":
                    inodes.add(f"socket:[{cols[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        with contextlib.suppress(OSError):
            if os.readlink(fd) in inodes:
                pid = int(fd.parent.parent.name)
                parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                return parent if fd_holds(parent, inodes) else pid  # uvicorn workers share the socket
    return None


def fd_holds(pid: int, inodes: set[str]) -> bool:
    with contextlib.suppress(OSError):
        return any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir())
    return False


@dataclass
class Snapshot:
    at: str
    processes: int
    rss_mib: float
    by_pid_mib: dict[int, float]


def snapshot(pid: int | None, at: str) -> Snapshot | None:
    if pid is None:
        return None
    rss = {p: rss_kib(p) / 1024 for p in tree(pid)}
    return Snapshot(at, len(rss), sum(rss.values()), rss)


# --- the clients ------------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # by example, seconds, 200s only
    statuses: Counter[str] = field(default_factory=Counter)

    def record(self, name: str, status: str, seconds: float) -> None:
        self.statuses[status] += 1
        if status == "200":
            self.latencies.setdefault(name, []).append(seconds)


class RawClient:
    """One keep-alive HTTP/1.1 connection, requests written by hand, Content-Length responses read."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> int:
        if self.conn is None:
            self.conn = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.conn
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
        writer.write(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        try:
            lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            await reader.readexactly(int(headers.get("content-length", "0")))
        except Exception:
            await self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(lines[0].split()[1])

    async def close(self) -> None:
        if self.conn is not None:
            self.conn[1].close()
            self.conn = None


async def client_loop(i: int, url: str, kind: str, bodies: list[tuple[str, bytes]], until: float, out: Results) -> None:
    parts = urlsplit(url)
    raw = RawClient(parts.hostname or "127.0.0.1", parts.port or 80)
    web = httpx.AsyncClient(base_url=url, timeout=120) if kind == "httpx" else None
    n = i % len(bodies)
    try:
        while time.monotonic() < until:
            name, body = bodies[n]
            n = (n + 1) % len(bodies)
            start = time.perf_counter()
            try:
                if web is not None:
                    r = await web.post("/api/evaluate", content=body, headers={"content-type": "application/json"})
                    await r.aread()
                    status = str(r.status_code)
                else:
                    status = str(await raw.post("/api/evaluate", body))
            except Exception as exc:  # a refused or dropped connection is a result too
                status = type(exc).__name__
            out.record(name, status, time.perf_counter() - start)
    finally:
        await raw.close()
        if web is not None:
            await web.aclose()


async def load(args: argparse.Namespace, url: str, pid: int | None, bodies: list[tuple[str, bytes]]) -> dict[str, Any]:
    out = Results()
    snaps = [snapshot(pid, "start")]
    server_cpu0 = sum(cpu_seconds(p) for p in tree(pid)) if pid else 0.0
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    until = start + args.seconds
    tasks = [asyncio.create_task(client_loop(i, url, args.client, bodies, until, out)) for i in range(args.clients)]
    # The 10th second too: the first seconds warm the server up (shape memo, allocator pools).
    for at in sorted({min(10.0, args.seconds / 3), args.seconds / 2}):
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        snaps.append(snapshot(pid, f"{at:g} s"))
    await asyncio.gather(*tasks)
    wall = time.monotonic() - start
    snaps.append(snapshot(pid, "end"))
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    server_cpu = (sum(cpu_seconds(p) for p in tree(pid)) - server_cpu0) if pid else None
    client_cpu = self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime
    everything = sorted(s for v in out.latencies.values() for s in v)
    return {
        "url": url,
        "clients": args.clients,
        "seconds": round(wall, 2),
        "client": args.client,
        "requests": sum(out.statuses.values()),
        "ok_per_second": len(everything) / wall,
        "latency_ms": percentiles(everything),
        "by_example": {k: {"n": len(v), **percentiles(sorted(v))} for k, v in sorted(out.latencies.items())},
        "statuses": dict(out.statuses),
        "server_cpu_s": server_cpu,
        "load_generator_cpu_s": round(client_cpu, 2),
        "memory": [s.__dict__ for s in snaps if s is not None],
    }


def percentiles(sorted_seconds: list[float]) -> dict[str, float]:
    if not sorted_seconds:
        return {}

    def at(q: float) -> float:
        return round(sorted_seconds[min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))] * 1e3, 2)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(sorted_seconds[-1] * 1e3, 2)}


def examples(url: str, only: str | None) -> list[tuple[str, bytes]]:
    with httpx.Client(base_url=url, timeout=60) as c:
        names = [e["name"] for e in c.get("/api/examples").raise_for_status().json()]
        if only is not None:
            if only not in names:
                raise SystemExit(f"no example {only!r}; the server has: {', '.join(names)}")
            names = [only]
        return [(n, c.get(f"/api/examples/{n}").raise_for_status().content) for n in names]


def report(r: dict[str, Any]) -> None:
    lat = r["latency_ms"]
    print(f"{r['url']}: {r['clients']} clients ({r['client']}) for {r['seconds']} s, {r['requests']} requests")
    print(
        f"  200s per second {r['ok_per_second']:.1f}; latency ms p50 {lat.get('p50')} p95 {lat.get('p95')} "
        f"p99 {lat.get('p99')} max {lat.get('max')}"
    )
    print(f"  statuses: {', '.join(f'{k}: {v}' for k, v in sorted(r['statuses'].items()))}")
    if r["server_cpu_s"] is not None:
        total = r["server_cpu_s"] + r["load_generator_cpu_s"]
        print(
            f"  CPU seconds: server {r['server_cpu_s']:.1f}, load generator {r['load_generator_cpu_s']:.1f} "
            f"({100 * r['load_generator_cpu_s'] / max(total, 1e-9):.0f}% of the two)"
        )
    for m in r["memory"]:
        print(f"  RSS at {m['at']:<6}: {m['rss_mib']:.0f} MiB in {m['processes']} process(es)")
    if len(r["by_example"]) > 1:
        for name, e in r["by_example"].items():
            print(f"    {name:<28} n {e['n']:>6}  p50 {e['p50']:>8} ms  p95 {e['p95']:>8} ms  p99 {e['p99']:>8} ms")


@contextlib.contextmanager
def target(args: argparse.Namespace) -> Iterator[tuple[str, int | None]]:
    if args.url:
        url = args.url.rstrip("/")
        yield url, args.pid or listening_pid(urlsplit(url).port or 80)
        return
    with uvicorn_process(args.workers) as (url, pid):
        time.sleep(1.0 if args.workers > 1 else 0)  # the other workers' start
        yield url, pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the server started here")
    parser.add_argument("--url", help="load this server instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid (found by its port otherwise)")
    parser.add_argument("--only", help="one example, e.g. dag_4_1")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with target(args) as (url, pid):
        bodies = examples(url, args.only)
        result = asyncio.run(load(args, url, pid, bodies))
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""What a careless or curious student can do to a classroom server (issue 11), measured.

    python bench/stall.py [--max-run-seconds 2] [--json out.json]

Starts dagrad from this checkout (bench/server.py) with DAGRAD_MAX_RUN_SECONDS set, and for each
case below sends its request while a second thread asks GET /api/health every 50 ms. Prints, per
case: the status and how long the answer took, the slowest health answer meanwhile, and whether
the server's processes (uvicorn and its workers) were idle afterwards: their CPU time over the
second after the answer (2.5 s after the client hung up, for the hang-up case), where idle means
under 5% of a core. Then a run of the 4.1 DAG, to show the server still answers. A measurement,
not a test: it exits 0 whatever it finds (non-zero only when the server does not start).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import cpu_seconds, tree
from server import uvicorn_process

DAG_4_1 = json.loads((Path(__file__).resolve().parents[1] / "backend/dagrad/examples/dag_4_1.json").read_text())


def source(nid: str, shape: list[int], **attrs: Any) -> dict[str, Any]:
    return {"id": nid, "op": "input", "attrs": {"shape": shape, **attrs}}


def op(nid: str, name: str, attrs: dict[str, Any] | None = None, **inputs: str) -> dict[str, Any]:
    return {"id": nid, "op": name, "attrs": attrs or {}, "inputs": inputs}


def matmul_chain(n: int = 50, size: int = 1024, passes: int = 8) -> dict[str, Any]:
    nodes = [{"id": "w", "op": "parameter", "attrs": {"shape": [size, size], "std": 0.03}}]
    prev = "w"
    for i in range(n):
        nodes.append(op(f"m{i}", "matmul", input=prev, other="w"))
        prev = f"m{i}"
    nodes.append(op("loss", "sum", input=prev))
    return {"nodes": nodes, "run": {"output": "loss", "backward_passes": passes}}


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "max_pool2d, a 512 window over 1024x1024": (
        "evaluate",
        {
            "nodes": [
                source("x", [1, 1, 1024, 1024]),
                op("p", "max_pool2d", {"kernel_size": 512, "stride": 1}, input="x"),
            ]
        },
    ),
    "50 matmuls of 1024x1024, 8 backward passes": ("evaluate", matmul_chain()),
    "a small 1-D pooling graph": (
        "evaluate",
        {"nodes": [source("x", [1, 1, 2**20]), op("p", "max_pool1d", {"kernel_size": 2**17, "stride": 1}, input="x")]},
    ),
    "validate a literal of 3 million numbers": (
        "validate",
        {"nodes": [{"id": "v", "op": "constant", "attrs": {"init": "values", "values": [0.5] * 3_000_000}}]},
    ),
}


@dataclass
class Row:
    case: str
    status: int | str
    answer_s: float
    slowest_health_ms: float
    busy_after: float  # share of a core the server's processes used over the window after
    idle: bool


class HealthProbe(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.slowest = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                start = time.monotonic()
                client.get("/api/health")
                self.slowest = max(self.slowest, time.monotonic() - start)
                time.sleep(0.05)


def busy(pid: int, seconds: float) -> float:
    """The share of one core that `pid` and every process below it used over the next `seconds`."""
    before = {p: cpu_seconds(p) for p in tree(pid)}
    time.sleep(seconds)
    after = {p: cpu_seconds(p) for p in tree(pid)}
    return sum(after[p] - before.get(p, 0.0) for p in after) / seconds


def hang_up(url: str, body: bytes, after: float) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        head = (  # a Host the server answers to (settings.allowed_hosts)
            f"POST /api/evaluate HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        s.sendall(head.encode() + body)
        time.sleep(after)


def measure(url: str, pid: int, name: str, kind: str, graph: dict[str, Any]) -> Row:
    probe = HealthProbe(url)
    probe.start()
    start = time.monotonic()
    try:
        status: int | str = httpx.post(f"{url}/api/{kind}", json=graph, timeout=120).status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    answer = time.monotonic() - start
    share = busy(pid, 1.0)
    probe.stop.set()
    probe.join()
    return Row(name, status, answer, probe.slowest * 1e3, share, share < 0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-run-seconds", type=float, default=2.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    settings = {"DAGRAD_MAX_RUN_SECONDS": str(args.max_run_seconds)}
    rows = []
    with uvicorn_process(settings=settings) as (url, pid):
        httpx.post(f"{url}/api/evaluate", json=DAG_4_1, timeout=60)
        for name, (kind, graph) in CASES.items():
            rows.append(measure(url, pid, name, kind, graph))
        probe = HealthProbe(url)
        probe.start()
        start = time.monotonic()
        hang_up(url, json.dumps(CASES["max_pool2d, a 512 window over 1024x1024"][1]).encode(), after=1.0)
        share = busy(pid, 2.5)
        probe.stop.set()
        probe.join()
        rows.append(
            Row(
                "max_pool2d again, the client hangs up after 1 s",
                "-",
                time.monotonic() - start,
                probe.slowest * 1e3,
                share,
                share < 0.05,
            )
        )
        last = httpx.post(f"{url}/api/evaluate", json=DAG_4_1, timeout=60).status_code
    print(f"dagrad with DAGRAD_MAX_RUN_SECONDS={args.max_run_seconds:g}")
    print(f"{'case':52} {'status':>6} {'answer':>8} {'health max':>11} {'CPU after':>10}  idle")
    for r in rows:
        print(
            f"{r.case:52} {r.status!s:>6} {r.answer_s:7.2f}s {r.slowest_health_ms:9.1f}ms {r.busy_after:9.0%}  {'yes' if r.idle else 'NO'}"
        )
    print(f"then the 4.1 DAG: {last}")
    if args.json:
        args.json.write_text(json.dumps({"rows": [asdict(r) for r in rows], "after": last}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

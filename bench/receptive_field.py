"""One receptive-field click on the Net at batch 12, over HTTP, against the same work in raw
PyTorch, measured in the same run (the issue's goal: under 100 ms over HTTP).

    python bench/receptive_field.py [--batch 12] [--rounds 20] [--port 8610]

dagrad: POST /api/receptive_field?node=c2&index=0,3,2,1 with the Net's graph, to a uvicorn server
of this checkout (its worker process parses, compiles, runs the forward, chains the structural
rules back to the input, takes the one-hot gradient and encodes both masks). PyTorch, by hand:
the forward to conv2 on the same tensors with the input requiring grad, and torch.autograd.grad
of that one element with respect to the input, the parameters and every intermediate, then each
gradient's non-zero mask. A measurement, not a test; figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
import graphs
import server as bench_server


def torch_click(batch: int) -> float:
    x, _, p = graphs.net_tensors(batch, "cpu", graphs.SEED)
    start = time.perf_counter()
    x = x.requires_grad_()
    c1 = F.conv2d(x, p["conv1_w"], p["conv1_b"])
    p1 = F.max_pool2d(c1, 3, 3)
    r1 = F.relu(p1)
    c2 = F.conv2d(r1, p["conv2_w"], p["conv2_b"])
    wrt = [x, p["conv1_w"], p["conv1_b"], p["conv2_w"], p["conv2_b"], c1, p1, r1]
    grads = torch.autograd.grad(c2[0, 3, 2, 1], wrt)
    [g != 0 for g in grads]
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--port", type=int, default=None, help="serve on this port (default: a free one)")
    args = parser.parse_args(argv)
    if args.port is not None:
        bench_server.free_port = lambda: args.port
    torch.set_num_threads(1)
    body = graphs.net(args.batch).model_dump_json()
    url_path = "/api/receptive_field?node=c2&index=0,3,2,1"
    ours, raw = [], []
    with bench_server.server() as url, httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(3):  # warm-up: the worker's first run, PyTorch's first kernels
            response = client.post(url_path, content=body, headers={"content-type": "application/json"})
            response.raise_for_status()
            torch_click(args.batch)
        for _ in range(args.rounds):  # interleaved, so that a slow spell of the machine hits both
            start = time.perf_counter()
            response = client.post(url_path, content=body, headers={"content-type": "application/json"})
            ours.append(time.perf_counter() - start)
            response.raise_for_status()
            raw.append(torch_click(args.batch))
    on_x = next(f for f in response.json()["fields"] if f["node"] == "x")
    a, b = statistics.median(ours), statistics.median(raw)
    print(f"Net, batch {args.batch}, one click on c2[0, 3, 2, 1], median of {args.rounds}:")
    print(f"  dagrad over HTTP            {a * 1e3:7.1f} ms  (p90 {sorted(ours)[int(0.9 * len(ours))] * 1e3:.1f} ms)")
    print(f"  PyTorch by hand             {b * 1e3:7.1f} ms  (forward to c2, one-hot autograd.grad, masks)")
    print(f"  ratio                       {a / b:7.1f}x")
    print(f"  field on x: {on_x['structural']['count']} elements can influence, {on_x['gradient']['count']} non-zero")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

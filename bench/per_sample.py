"""Per-sample gradients of the Net at batch 12, against a Python loop over the samples in plain
PyTorch, measured in the same run (the issue's goal: faster than the loop).

    python bench/per_sample.py [--batch 12] [--rounds 5]

dagrad: Engine().per_sample(the Net) (dagrad/per_sample.py: the whole batch's forward and
backward, then torch.func.vmap over grad of the graph fed one sample, and the report). PyTorch,
the same work by hand with a loop: the batch's forward and backward (for the batch gradient the
samples' are compared with), then a loop over the samples, each one's forward and backward, on
the same tensors; and the loop alone. Both in one thread, as a worker process of the server runs. A measurement, not a test; figures in
bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.func import grad, vmap

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
import graphs
from dagrad.engine import Engine
from dagrad.settings import Settings


def torch_loop(batch: int, with_batch: bool) -> float:
    x, labels, p = graphs.net_tensors(batch, "cpu", graphs.SEED)

    def loss(rows: slice) -> torch.Tensor:
        r1 = F.relu(F.max_pool2d(F.conv2d(x[rows], p["conv1_w"], p["conv1_b"]), 3, 3))
        r2 = F.relu(F.max_pool2d(F.conv2d(r1, p["conv2_w"], p["conv2_b"]), 2, 2))
        r3 = F.relu(F.linear(r2.view(-1, 256), p["fc1_w"], p["fc1_b"]))
        return F.cross_entropy(F.linear(r3, p["fc2_w"], p["fc2_b"]), labels[rows])

    start = time.perf_counter()
    if with_batch:
        torch.autograd.grad(loss(slice(None)), list(p.values()))
    for i in range(batch):
        torch.autograd.grad(loss(slice(i, i + 1)), list(p.values()))
    return time.perf_counter() - start


def torch_vmap(batch: int) -> float:
    """What dagrad runs, by hand: torch.func.vmap over grad of the Net fed one sample."""
    x, labels, p = graphs.net_tensors(batch, "cpu", graphs.SEED)
    weights = {k: v.detach() for k, v in p.items()}

    def loss(w: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        r1 = F.relu(F.max_pool2d(F.conv2d(xi, w["conv1_w"], w["conv1_b"]), 3, 3))
        r2 = F.relu(F.max_pool2d(F.conv2d(r1, w["conv2_w"], w["conv2_b"]), 2, 2))
        r3 = F.relu(F.linear(r2.view(-1, 256), w["fc1_w"], w["fc1_b"]))
        return F.cross_entropy(F.linear(r3, w["fc2_w"], w["fc2_b"]), yi)

    start = time.perf_counter()
    vmap(grad(loss), in_dims=(None, 0, 0))(weights, x.unsqueeze(1), labels.unsqueeze(1))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    engine = Engine(Settings())
    graph = graphs.net(args.batch)
    engine.per_sample(graph)  # warm-up: vmap's first call
    torch_loop(args.batch, True)
    torch_vmap(args.batch)
    ours, same, loop, vmapped = [], [], [], []
    method = ""
    for _ in range(args.rounds):  # interleaved, so that a slow spell of the machine hits all three
        start = time.perf_counter()
        method = engine.per_sample(graph).method
        ours.append(time.perf_counter() - start)
        same.append(torch_loop(args.batch, True))
        loop.append(torch_loop(args.batch, False))
        vmapped.append(torch_vmap(args.batch))
    a, b, c, d = (statistics.median(t) for t in (ours, same, loop, vmapped))
    print(f"Net, batch {args.batch}, per-sample gradients of its 8 parameters ({method}), median of {args.rounds}:")
    print(f"  dagrad per_sample                 {a * 1e3:8.1f} ms  (the batch's run, the samples', the report)")
    print(f"  PyTorch: the batch, then a loop   {b * 1e3:8.1f} ms  ratio {a / b:.2f}x")
    print(f"  PyTorch: the loop alone           {c * 1e3:8.1f} ms  ratio {a / c:.2f}x")
    print(f"  PyTorch: vmap over grad alone     {d * 1e3:8.1f} ms  (the loop's {d / c:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The gradient check on the Net at batch 12, against the same central differences written in
plain PyTorch, measured in the same run.

    python bench/gradcheck.py [--batch 12] [--max-elements N] [--rounds 3]

dagrad: Engine().gradcheck(the Net), default budget unless --max-elements (dagrad/gradcheck.py:
one float64 forward and backward, then two float64 forwards per element moved). PyTorch: one
float64 forward and backward of the same Net by hand, then as many pairs of forwards, each with
one parameter element moved in place and put back. The ratio is dagrad's median over PyTorch's;
what dagrad adds is running the graph through its interpreter, the constants' copies and the
report. A measurement, not a test; bench/README.md has the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
import graphs
from dagrad.engine import Engine
from dagrad.settings import Settings


def torch_check(batch: int, moves: int) -> float:
    x, labels, p = graphs.net_tensors(batch, "cpu", graphs.SEED)
    x = x.double()
    p = {k: v.detach().double().requires_grad_() for k, v in p.items()}

    def loss() -> torch.Tensor:
        r1 = F.relu(F.max_pool2d(F.conv2d(x, p["conv1_w"], p["conv1_b"]), 3, 3))
        r2 = F.relu(F.max_pool2d(F.conv2d(r1, p["conv2_w"], p["conv2_b"]), 2, 2))
        r3 = F.relu(F.linear(r2.view(-1, 256), p["fc1_w"], p["fc1_b"]))
        return F.cross_entropy(F.linear(r3, p["fc2_w"], p["fc2_b"]), labels)

    start = time.perf_counter()
    loss().backward()
    names = list(p)
    worst = 0.0
    with torch.no_grad():
        for i in range(moves):
            t = p[names[i % len(names)]]
            flat = t.view(-1)
            j = (i * 7919) % flat.numel()
            flat[j] += 1e-6
            up = float(loss())
            flat[j] -= 2e-6
            down = float(loss())
            flat[j] += 1e-6
            grad = t.grad
            assert grad is not None
            worst = max(worst, abs((up - down) / 2e-6 - float(grad.view(-1)[j])))
    assert worst < 1e-5, worst
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--max-elements", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # both sides alike, as a worker process of the server runs
    engine = Engine(Settings())
    graph = graphs.net(args.batch)
    ours, theirs = [], []
    report = None
    for _ in range(args.rounds):  # interleaved, so that a slow spell of the machine hits both
        start = time.perf_counter()
        report = engine.gradcheck(graph, args.max_elements)
        ours.append(time.perf_counter() - start)
        theirs.append(torch_check(args.batch, report.elements_checked))
    assert report is not None
    assert report.ok
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"Net, batch {args.batch}: {report.elements_checked} of {report.elements_total:,} elements moved "
        f"({len(report.nodes)} nodes), every gradient agrees"
    )
    print(f"  dagrad gradcheck  {a * 1e3:9.1f} ms  (median of {args.rounds})")
    print(f"  plain PyTorch     {b * 1e3:9.1f} ms  (the same forwards by hand)")
    print(f"  ratio             {a / b:9.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

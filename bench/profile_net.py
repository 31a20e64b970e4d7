"""Where dagrad's time goes on the course's Net (case b), phase by phase, beside raw PyTorch.

    python bench/profile_net.py [--batch 256] [--device cpu|cuda] [--rounds 30] [--keep-freed-memory]

Phases of one evaluate of a new graph (its output renamed and a new seed, as bench/run.py
times it): compile (structure checks and shape inference on the meta device, with the engine's
shape memo), forward (sources drawn, then every op), backward, then the report: the statistics
of every value and gradient (report.stats.stats_of), the rest of the payloads and response
models (data encoding, base64), and freeing the run's tensors. Medians over interleaved rounds,
in ms. An A/B row runs the same evaluate with every statistic left out: what they cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

import torch

import graphs
from dagrad.engine import Engine
from dagrad.interpreter import Interpreter
from dagrad.report import payload
from dagrad.report.response import evaluate_response
from dagrad.report.stats import EMPTY
from dagrad.results import PayloadOptions
from run import new_graph
from timing import keep_freed_memory, sync


class Clock:
    """Adds up the time spent in wrapped functions, per name."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - start

        return timed


class NoStats:
    """For an A/B: while active, every tensor gets made-up statistics, so that "total" against
    "total, no statistics" is what they cost."""

    def __enter__(self) -> None:
        self.saved = payload.stats_of
        payload.stats_of = lambda tensors: [EMPTY for _ in tensors]

    def __exit__(self, *exc: object) -> None:
        payload.stats_of = self.saved


def dagrad_phases(engine: Engine, graph: Any, device: str) -> dict[str, float]:
    options, clock = PayloadOptions(), Clock()
    stats_of = payload.stats_of
    sync(device)
    t0 = time.perf_counter()
    compiled = engine.compile(graph)
    t1 = time.perf_counter()
    result = Interpreter(compiled.plan, engine.settings.max_run_seconds).run()
    sync(device)
    t2 = time.perf_counter()
    payload.stats_of = clock.wrap("stats", stats_of)
    try:
        evaluate_response(compiled.plan, result, options, engine.settings, compiled.seconds)
    finally:
        payload.stats_of = stats_of
    t3 = time.perf_counter()
    forward_s, backward_s = result.forward_s, result.backward_s
    del result, compiled  # the run's tensors are freed here
    t4 = time.perf_counter()
    return {
        "compile": t1 - t0,
        "forward": forward_s,
        "backward": backward_s,
        "stats": clock.spent.get("stats", 0.0),
        "payloads": (t3 - t2) - clock.spent.get("stats", 0.0),
        "free": t4 - t3,
        "total": t4 - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keep-freed-memory", action="store_true", help="as in run.py: see README")
    args = parser.parse_args()
    if args.keep_freed_memory:
        keep_freed_memory()
    graph = graphs.net(args.batch, args.device)
    engine = Engine()
    fresh = iter([new_graph(graph, k) for k in range(1000, 1000 + 2 * (args.rounds + 3))])
    raw_steps = {
        name: graphs.net_torch(args.batch, args.device, retain_grad=name == "raw+retain")
        for name in ("raw", "raw+retain")
    }
    samples: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        samples.setdefault(name, []).append(seconds)

    for r in range(args.rounds + 3):
        phases = dagrad_phases(engine, next(fresh), args.device)
        with NoStats():
            phases["total, no statistics"] = dagrad_phases(engine, next(fresh), args.device)["total"]
        raw = {}
        for name, step in raw_steps.items():
            sync(args.device)
            t0 = time.perf_counter()
            step()
            sync(args.device)
            raw[name] = time.perf_counter() - t0
        if r >= 3:  # warm-up rounds
            for k, v in {**phases, **raw}.items():
                note(k, v)
    med = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
    print(
        f"Net batch {args.batch} on {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads; median ms over {args.rounds} rounds"
    )
    names = ("compile", "forward", "backward", "stats", "payloads", "free", "total", "total, no statistics")
    for k in (*names, "raw", "raw+retain"):
        if k in med:
            print(f"  {k:21s} {med[k]:8.2f}")
    print("  (forward and backward as the interpreter clocks them; total is compile + run + report + freeing)")


if __name__ == "__main__":
    main()

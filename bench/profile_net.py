"""Where dagrad's time goes on the course's Net (case b), phase by phase, beside raw PyTorch.

    python bench/profile_net.py [--batch 256] [--device cpu|cuda] [--rounds 30]

Phases of one engine.evaluate: compile (structure checks and shape inference on the meta
device), forward (sources drawn, then every op), backward, then the payloads: per-node
statistics (payload.stats), data encoding (payload.encode, base64) and the rest of building
the response models. Medians over interleaved rounds, in ms. The statistics of large CPU
tensors are taken during forward and backward, as the engine does (payload.EarlyStats), and
counted there; the "stats" row has the others.

On a CPU, two A/B rows run the same evaluate again: "total, no large stats" with the statistics
of tensors over 65,536 elements left out (what they cost), and, where the C extension is built,
"total, no C kernel" with PyTorch's reductions in its place (what it saves).
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
from dagrad import engine, payload
from dagrad.compiler import compile_graph
from dagrad.interpreter import Interpreter
from dagrad.results import PayloadOptions
from dagrad.settings import get_settings
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


class NoLargeStats:
    """For an A/B: while active, tensors over 65,536 elements get made-up statistics, so that
    "total" against "total, no large stats" is what those statistics cost."""

    made_up = payload.TensorStats(min=0.0, max=0.0, mean=0.0, std=0.0, norm=0.0, nan=0, inf=0)

    def __enter__(self) -> None:
        self.saved = payload.Noted.note, payload._large_stats
        large_stats = payload._large_stats
        payload.Noted.note = lambda noted, t: None  # type: ignore[method-assign]
        payload._large_stats = lambda x: self.made_up if x.numel() > payload._NUMPY_MAX_ELEMENTS else large_stats(x)

    def __exit__(self, *exc: object) -> None:
        payload.Noted.note, payload._large_stats = self.saved  # type: ignore[method-assign]


class NoCKernel:
    """For an A/B: while active, statistics are taken as an install without a C compiler takes them."""

    def __enter__(self) -> None:
        self.saved = payload._one_pass
        payload._one_pass = None

    def __exit__(self, *exc: object) -> None:
        payload._one_pass = self.saved


def dagrad_phases(graph: Any, device: str) -> dict[str, float]:
    settings, options = get_settings(), PayloadOptions()
    clock = Clock()
    stats, encode = payload.stats, payload.encode
    sync(device)
    t0 = time.perf_counter()
    plan = compile_graph(graph, settings)
    t1 = time.perf_counter()
    early = payload.EarlyStats()
    result = Interpreter(plan, settings.max_run_seconds, early).run()
    sync(device)
    t2 = time.perf_counter()
    # Clocked from here only: the statistics taken during the run are inside forward and backward.
    payload.stats, payload.encode = clock.wrap("stats", stats), clock.wrap("encode", encode)
    try:
        engine._node_results(plan, result, options, settings, early)
    finally:
        payload.stats, payload.encode = stats, encode
    t3 = time.perf_counter()
    forward_s, backward_s = result.forward_s, result.backward_s
    del result, plan  # the run's tensors are freed here
    early.clear()
    t4 = time.perf_counter()
    return {
        "compile": t1 - t0,
        "forward": forward_s,
        "backward": backward_s,
        "stats": clock.spent.get("stats", 0.0),
        "encode": clock.spent.get("encode", 0.0),
        "models": (t3 - t2) - clock.spent.get("stats", 0.0) - clock.spent.get("encode", 0.0),
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
    raw_steps = {
        name: graphs.net_torch(args.batch, args.device, retain_grad=name == "raw+retain")
        for name in ("raw", "raw+retain")
    }
    samples: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        samples.setdefault(name, []).append(seconds)

    for r in range(args.rounds + 3):
        phases = dagrad_phases(graph, args.device)
        if args.device == "cpu":
            with NoLargeStats():
                phases["total, no large stats"] = dagrad_phases(graph, args.device)["total"]
            if payload.native():
                with NoCKernel():
                    phases["total, no C kernel"] = dagrad_phases(graph, args.device)["total"]
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
    names = (
        "compile",
        "forward",
        "backward",
        "stats",
        "encode",
        "models",
        "free",
        "total",
        "total, no large stats",
        "total, no C kernel",
    )
    for k in (*names, "raw", "raw+retain"):
        if k in med:
            print(f"  {k:21s} {med[k]:8.2f}")
    print("  (forward and backward as the interpreter clocks them; total is compile + run + payloads + freeing)")


if __name__ == "__main__":
    main()

"""Training (issue 16), measured in one run against a raw torch.optim loop:

    python bench/train.py [--steps 600] [--rounds 10] [--threads 1] [--json out.json]

1. steps/s of dagrad's training (Trainer.step: the step's plan through the interpreter, then
   optimizer.step) against a hand-written torch.optim loop over the same batches, on the 2-D
   MLP (moons, batch 32, Adam) and the digits Net (batch 64, SGD with momentum), no snapshots;
   the same torch threads on both sides (a training worker has train_threads = 1). The two take
   turns in blocks (--rounds of them each, --steps in all) and each side's median block counts:
   a shared machine's drift falls on both.
2. the cost of streaming at the default rate: a streamed Session (progress at most 20 a second,
   a snapshot every snapshot_every = 10 steps, as long as snapshots take at most a fifth of the
   time: an evaluate of the trained graph and the boundary) against the plain steps, its
   messages drained by a thread.
3. the evaluate latency another client sees while a training runs: a server from this checkout,
   /api/evaluate of the 4.1 DAG, median and p95, idle and while a WebSocket trains the MLP.
A measurement, not a test: it exits 0 whatever it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Pipe
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from dagrad import examples  # noqa: E402
from dagrad.api.train_job import Session  # noqa: E402
from dagrad.data import BatchOrder, load  # noqa: E402
from dagrad.engine import Engine  # noqa: E402
from dagrad.graph_format import Graph  # noqa: E402
from dagrad.settings import Settings  # noqa: E402
from example_oracles import DigitsNet, moons_mlp  # noqa: E402


def with_steps(name: str, steps: int, **train: Any) -> Graph:
    g = examples.load(name)
    assert g is not None
    assert g.train is not None
    return Graph.model_validate(g.model_dump() | {"train": g.train.model_dump() | {"steps": steps} | train})


def raw_stepper(graph: Graph, model: torch.nn.Module, reshape: bool) -> Callable[[], None]:
    """One step of the textbook loop a call, over the same batches as dagrad's."""
    t = graph.train
    assert t is not None
    assert t.data is not None
    data = load(t.data.dataset)
    order = BatchOrder(len(data.train_x), t.data.batch_size, t.data.shuffle, graph.run.seed)
    spec = t.optimizer.model_dump()
    kind = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[spec.pop("name")]
    if "betas" in spec:
        spec["betas"] = tuple(spec["betas"])
    opt = kind(model.parameters(), **spec)
    steps = itertools.count()

    def step() -> None:
        rows = order.indices(next(steps))
        x = data.train_x[rows]
        x = x.view(-1, 1, 8, 8) if reshape else x
        loss = F.cross_entropy(model(x), data.train_y[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        float(loss.detach())  # dagrad reads each step's loss too

    return step


def interleaved(raw: Callable[[], None], ours: Callable[[], None], steps: int, rounds: int) -> tuple[float, float]:
    """steps/s of each, from the medians of `rounds` blocks of steps // rounds steps, the two
    taking turns (which goes first alternates), so that the machine's drift falls on both."""
    block = max(1, steps // rounds)
    times: tuple[list[float], list[float]] = ([], [])
    for r in range(rounds):
        for side in (0, 1) if r % 2 == 0 else (1, 0):
            f = (raw, ours)[side]
            start = time.perf_counter()
            for _ in range(block):
                f()
            times[side].append((time.perf_counter() - start) / block)
    return 1 / statistics.median(times[0]), 1 / statistics.median(times[1])


def streamed(graph: Graph) -> float:
    """steps/s of a streamed Session at the default rate, its messages drained."""
    ours, theirs = Pipe()
    sent = [0]

    def drain() -> None:
        while True:
            try:
                theirs.recv_bytes()
                sent[0] += 1
            except EOFError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    engine = Engine()
    session = Session(engine, engine.trainer(graph), ours)
    start = time.perf_counter()
    session.run()
    seconds = time.perf_counter() - start
    ours.close()
    assert graph.train is not None
    return graph.train.steps / seconds


def latency(url: str, n: int) -> tuple[float, float]:
    g = examples.load("dag_4_1")
    assert g is not None
    body = g.model_dump_json()
    times = []
    with httpx.Client(timeout=60) as client:
        for _ in range(n):
            t = time.perf_counter()
            r = client.post(url + "/api/evaluate", content=body, headers={"content-type": "application/json"})
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def evaluate_while_training(n: int) -> dict[str, float]:
    import websockets

    from server import uvicorn_process

    out: dict[str, float] = {}
    with uvicorn_process() as (url, _):
        latency(url, 10)  # warm
        out["idle_median_ms"], out["idle_p95_ms"] = latency(url, n)
        doc = json.loads(with_steps("train_moons_mlp", 9000).model_dump_json())
        ready = threading.Event()
        stop = threading.Event()
        steps = [0]

        async def train() -> None:
            async with websockets.connect(url.replace("http", "ws") + "/api/train/ws", max_size=2**26) as ws:
                await ws.send(json.dumps({"type": "start", "graph": doc}))
                while not stop.is_set():
                    m = json.loads(await ws.recv())
                    if m["type"] == "progress":
                        steps[0] = m["points"][-1]["step"]
                        ready.set()

        def training() -> None:
            with contextlib.suppress(Exception):  # the server going away at the end
                asyncio.run(train())

        thread = threading.Thread(target=training, daemon=True)
        thread.start()
        ready.wait(60)
        start_steps, start = steps[0], time.perf_counter()
        out["training_median_ms"], out["training_p95_ms"] = latency(url, n)
        out["training_steps_per_s_meanwhile"] = (steps[0] - start_steps) / (time.perf_counter() - start)
        stop.set()
        thread.join(10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=600, help="steps each side takes, in all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10, help="blocks each side runs, taking turns")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    Settings()
    results: dict[str, Any] = {"threads": args.threads, "steps": args.steps}
    cases = [
        ("mlp_b32_adam", with_steps("train_moons_mlp", args.steps + 10), lambda g: moons_mlp(g.run.seed), False),
        ("digits_net_b64_sgd", with_steps("train_digits_net", args.steps + 10), lambda g: _digits(g), True),
    ]
    for name, graph, make, reshape in cases:
        trainer = Engine().trainer(graph)
        raw_step = raw_stepper(graph, make(graph), reshape)
        for _ in range(10):  # warm: the allocator, the first batches' epochs
            raw_step()
            trainer.step()
        raw, ours = interleaved(raw_step, trainer.step, args.steps, args.rounds)
        stream = streamed(graph)
        results[name] = {"raw_steps_per_s": raw, "dagrad_steps_per_s": ours, "ratio": ours / raw,
                         "streamed_steps_per_s": stream, "streaming_cost": 1 - stream / ours}  # fmt: skip
        r = results[name]
        print(f"{name}: raw {raw:.0f} steps/s, dagrad {ours:.0f} steps/s ({ours / raw:.2f}x raw); "
              f"streamed at the default rate {stream:.0f} steps/s ({r['streaming_cost']:.0%} slower)")  # fmt: skip
    results["evaluate_latency"] = lat = evaluate_while_training(args.requests)
    print(f"4.1 DAG /api/evaluate: idle median {lat['idle_median_ms']:.1f} ms (p95 {lat['idle_p95_ms']:.1f}); "
          f"while a training runs median {lat['training_median_ms']:.1f} ms (p95 {lat['training_p95_ms']:.1f}), "
          f"the training meanwhile at {lat['training_steps_per_s_meanwhile']:.0f} steps/s")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def _digits(graph: Graph) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(graph.run.seed)
        return DigitsNet()


if __name__ == "__main__":
    main()

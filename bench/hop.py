"""The cost of the worker hop (issue 11): the 4.1 DAG evaluated by a WorkerPool (pickled to a
forked worker, parsed, run and answered there, relayed back) against the same JSON body parsed
and evaluated by an Engine in this process, interleaved, medians.

    python bench/hop.py [--rounds 400]

The difference is what the server pays for running graphs away from its event loop: the job's
pickling, two socket transfers and waking the worker. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from dagrad.api.workers import WorkerPool  # noqa: E402
from dagrad.engine import Engine  # noqa: E402
from dagrad.graph_format import Graph  # noqa: E402
from dagrad.settings import Settings  # noqa: E402

BODY = (ROOT / "backend/dagrad/examples/dag_4_1.json").read_bytes()


async def never() -> None:
    await asyncio.sleep(3600)


async def measure(rounds: int) -> tuple[list[float], list[float]]:
    settings = Settings()
    engine, pool = Engine(settings), WorkerPool(settings)
    hop: list[float] = []
    here: list[float] = []
    try:
        await pool.started()
        for i in range(rounds + 20):  # the first 20 of each warm up
            t0 = time.perf_counter()
            status, _ = await pool.run("evaluate", BODY, None, time.monotonic() + 10, never)
            t1 = time.perf_counter()
            engine.evaluate(Graph.model_validate_json(BODY)).model_dump_json()
            t2 = time.perf_counter()
            assert status == 200
            if i >= 20:
                hop.append(t1 - t0)
                here.append(t2 - t1)
    finally:
        pool.close()
    return hop, here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    hop, here = asyncio.run(measure(args.rounds))
    a, b = statistics.median(hop) * 1e3, statistics.median(here) * 1e3
    print(f"4.1 DAG, {args.rounds} rounds: through a worker {a:.3f} ms, in this process {b:.3f} ms (medians)")
    print(f"the hop: {a - b:.3f} ms")


if __name__ == "__main__":
    main()

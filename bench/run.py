"""dagrad's benchmarks, each against raw PyTorch measured in the same run.

    python bench/run.py [--device cpu|cuda] [--quick] [--json out.json]

Prints one table (case, dagrad median, torch median, ratio, target, PASS/MISS) and, with
--json, writes the same numbers to a file. It is a measurement, not a test: it exits 0
whatever it measures (non-zero only when a case fails outright). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"
sys.path.insert(0, str(BACKEND))  # benchmark this checkout's dagrad, installed or not

import httpx  # noqa: E402
import torch  # noqa: E402

import graphs  # noqa: E402
from dagrad.engine import Engine  # noqa: E402
from dagrad.graph_format import Graph  # noqa: E402
from dagrad.results import EvaluateResponse, PayloadOptions  # noqa: E402
from dagrad.settings import Settings  # noqa: E402
from server import server  # noqa: E402
from timing import Timing, compare, glibc, keep_freed_memory, measure  # noqa: E402


@dataclass
class Row:
    case: str
    dagrad_ms: float
    torch_ms: float | None = None
    target: str = ""
    passed: bool | None = None  # None: no target, the row informs
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if self.torch_ms is None else self.dagrad_ms / self.torch_ms


@dataclass
class Budget:
    """How many timed calls each case gets (warm-up calls come on top)."""

    dag: int = 300
    http: int = 500
    net_small: int = 100
    net_large: int = 40
    validate: int = 100
    warmup: int = 5

    @classmethod
    def quick(cls) -> Budget:
        return cls(dag=60, http=100, net_small=12, net_large=8, validate=20, warmup=2)


# One engine for the whole benchmark, as one server process holds one.
ENGINE = Engine(Settings())


def evaluate_fn(graph: Graph) -> Callable[[], EvaluateResponse]:
    options = PayloadOptions()
    return lambda: ENGINE.evaluate(graph, options)


def new_graph(graph: Graph, k: int) -> Graph:
    """`graph` with its output node renamed and the seed k, as a student's edit is: the engine's
    shape memo still knows its ops (bench/README.md)."""
    old = graph.run.output or graph.nodes[-1].id
    new = f"{old}_{k}"

    def renamed(ref: str) -> str:
        return new if ref == old else ref

    nodes = [
        n.model_copy(
            update={
                "id": renamed(n.id),
                "inputs": {
                    port: [renamed(r) for r in src] if isinstance(src, list) else renamed(src)
                    for port, src in n.inputs.items()
                },
            }
        )
        for n in graph.nodes
    ]
    run = graph.run.model_copy(
        update={
            "seed": k,
            "output": None if graph.run.output is None else new,
            "wrt": None if graph.run.wrt is None else [renamed(w) for w in graph.run.wrt],
        }
    )
    return graph.model_copy(update={"nodes": nodes, "run": run})


def fresh_graphs(graph: Graph, count: int, start: int = 1000) -> Callable[[], Graph]:
    """A new graph at each call (see new_graph), all built before any timing starts."""
    made = iter([new_graph(graph, k) for k in range(start, start + count)])
    return lambda: next(made)


def check_close(what: str, ours: float | None, theirs: float, rel: float) -> None:
    """Both sides must compute the same thing before their times mean anything."""
    if ours is None or abs(ours - theirs) > rel * max(1.0, abs(theirs)):
        raise SystemExit(f"{what}: dagrad gives {ours}, raw PyTorch {theirs}; the cases do not match")


# --- a. the 4.1 DAG, in process and over HTTP ---------------------------------------------------


def case_dag(device: str, budget: Budget) -> list[Row]:
    graph = graphs.dag41(device)
    ours = evaluate_fn(graph)
    step = graphs.dag41_torch(device)
    rel = 1e-5 if device == "cpu" else 1e-4
    check_close("4.1 DAG q", ours().nodes["q"].value.stats.mean, step().item(), rel)
    options = PayloadOptions()
    fresh = fresh_graphs(graph, budget.dag + budget.warmup)
    t = compare(
        {"dagrad": lambda: ENGINE.evaluate(fresh(), options), "torch": step},
        rounds=budget.dag,
        warmup=budget.warmup,
        device=device,
    )
    rows = [Row("a. 4.1 DAG evaluate, in process", t["dagrad"].median_ms, t["torch"].median_ms)]
    http, floor = http_round_trips(graph, budget, expect_q=step().item())
    rows.append(
        Row(
            "a. 4.1 DAG POST /api/evaluate, median",
            http.median_ms,
            target="< 5 ms",
            passed=http.median_ms < 5.0,
            extra={"p95_ms": http.p95_ms, "min_ms": http.min_ms, "requests": len(http.samples)},
        )
    )
    rows.append(Row("a. 4.1 DAG POST /api/evaluate, p95", http.p95_ms))
    rows.append(Row("a. GET /api/health (the HTTP floor), median", floor.median_ms, extra={"p95_ms": floor.p95_ms}))
    return rows


def http_round_trips(graph: Graph, budget: Budget, expect_q: float) -> tuple[Timing, Timing]:
    """POST the graph many times over one keep-alive connection; GET /api/health alike, which
    shows what the server and the client cost before any graph work."""
    body = graph.model_dump_json(exclude_defaults=True).encode()
    headers = {"content-type": "application/json"}
    with server() as url, httpx.Client(base_url=url, timeout=30) as client:  # one keep-alive connection
        # After the check, each POST carries a new graph (see new_graph), its JSON made before the
        # timing starts.
        count = budget.http + 4 * budget.warmup
        fresh = iter(
            [new_graph(graph, k).model_dump_json(exclude_defaults=True).encode() for k in range(7000, 7000 + count)]
        )

        def post(content: bytes | None = None) -> httpx.Response:
            response = client.post("/api/evaluate", content=content or next(fresh), headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"POST /api/evaluate answered {response.status_code}: {response.text[:500]}")
            return response

        first = post(body).json()
        check_close("4.1 DAG q over HTTP", first["nodes"]["q"]["value"]["stats"]["mean"], expect_q, 1e-4)
        evaluate = measure(post, repeat=budget.http, warmup=4 * budget.warmup, device="cpu")
        health = measure(lambda: client.get("/api/health"), repeat=budget.http // 2, warmup=budget.warmup, device="cpu")
        return evaluate, health


# --- b. the course's Net --------------------------------------------------------------------------


def case_net(batch: int, device: str, rounds: int, budget: Budget) -> list[Row]:
    graph = graphs.net(batch, device)
    ours = evaluate_fn(graph)
    raw = graphs.net_torch(batch, device)
    retained = graphs.net_torch(batch, device, retain_grad=True)
    rel = 1e-5 if device == "cpu" else 1e-3
    check_close(f"Net batch {batch} loss", ours().nodes["loss"].value.stats.mean, raw().item(), rel)
    # dagrad evaluates a new graph at each call (its output renamed, the seed k: new_graph), and
    # "drawn" draws the same tensors from the same seed k: both draw, call after call.
    calls = rounds + budget.warmup
    seeds = range(3000, 3000 + calls)
    drawn = graphs.net_torch(batch, device, retain_grad=True, seeds=iter(seeds))
    fresh = iter([new_graph(graph, k) for k in seeds])
    fresh_graphed = iter([new_graph(graph, k) for k in seeds])  # the same, asked for the backward graph
    fresh_stepped = iter([new_graph(graph, k) for k in seeds])  # and for its steps
    first = next(fresh)
    next(fresh_graphed)
    next(fresh_stepped)
    check_close(f"Net batch {batch} loss, seed {seeds[0]}", ours_once(first), drawn().item(), rel)

    phases: list[Any] = []
    options = PayloadOptions()

    def ours_noting_phases() -> None:
        phases.append(ENGINE.evaluate(next(fresh), options).timings)

    graphed = PayloadOptions(backward_graph=True)

    def ours_with_backward_graph() -> None:
        ENGINE.evaluate(next(fresh_graphed), graphed)

    stepped = PayloadOptions(backward_steps=True)

    def ours_with_backward_steps() -> None:
        ENGINE.evaluate(next(fresh_stepped), stepped)

    hooked = graphs.net_torch(batch, device, retain_grad=True, seeds=iter(seeds), record_steps=True)

    t = compare(
        {
            "dagrad": ours_noting_phases,
            "graph": ours_with_backward_graph,
            "steps": ours_with_backward_steps,
            "hooked": hooked,
            "torch": raw,
            "retain": retained,
            "drawn": drawn,
        },
        rounds=rounds - 1,
        warmup=budget.warmup,
        device=device,
    )
    phases = phases[budget.warmup :]
    breakdown = {
        name: sorted(getattr(p, name) for p in phases)[len(phases) // 2]
        for name in ("compile_ms", "forward_ms", "backward_ms", "encode_ms")
    }
    med = {name: timing.median_ms for name, timing in t.items()}
    mins = {name: timing.min_ms for name, timing in t.items()}  # load only ever adds: a cross-check
    target = {"target": "<= 1.15x", "passed": med["dagrad"] / med["drawn"] <= 1.15} if batch >= 256 else {}
    name = f"b. Net batch {batch}"
    return [
        Row(
            f"{name} vs raw + retain_grad drawing the same tensors (both draw)",
            med["dagrad"],
            med["drawn"],
            **target,
            extra={"dagrad_phases_ms": breakdown, "min_ms": mins},
        ),
        Row(f"{name} vs raw + retain_grad on tensors drawn once", med["dagrad"], med["retain"]),
        Row(f"{name} vs raw fwd+bwd on tensors drawn once (no retain_grad)", med["dagrad"], med["torch"]),
        Row(
            f"{name} with ?backward_graph=true vs without",
            med["graph"],
            med["dagrad"],
            target="<= 1.10x",
            passed=med["graph"] / med["dagrad"] <= 1.10,
        ),
        Row(
            f"{name} with ?backward_steps=true vs without",
            med["steps"],
            med["dagrad"],
            **({"target": "<= 1.30x", "passed": med["steps"] / med["dagrad"] <= 1.30} if batch == 12 else {}),
        ),
        Row(f"{name} with ?backward_steps=true vs raw + hooks recording every step", med["steps"], med["hooked"]),
    ]


def ours_once(graph: Graph) -> float | None:
    assert graph.run.output is not None
    return ENGINE.evaluate(graph).nodes[graph.run.output].value.stats.mean


# --- c. validation of a generated 200-node graph ------------------------------------------------------


def case_validate(budget: Budget) -> list[Row]:
    graph = graphs.generated(200)
    assert len(ENGINE.validate(graph).order) == 200
    unmemoised = Engine(Settings(shape_memo_bytes=0))
    count = budget.validate + budget.warmup
    fresh = fresh_graphs(graph, count)
    texts = iter([new_graph(graph, k).model_dump_json() for k in range(5000, 5000 + count)])
    t = compare(
        {
            "validate": lambda: ENGINE.validate(fresh()),
            "parse+validate": lambda: ENGINE.validate(Graph.model_validate_json(next(texts))),
            "no memo": lambda: unmemoised.validate(graph),
        },
        rounds=budget.validate,
        warmup=budget.warmup,
        device="cpu",
    )
    return [
        Row(
            "c. validate 200-node graph", t["validate"].median_ms, target="< 20 ms", passed=t["validate"].median_ms < 20
        ),
        Row("c. JSON parse + validate, 200 nodes", t["parse+validate"].median_ms),
        Row("c. validate 200 nodes, an engine without the shape memo", t["no memo"].median_ms),
    ]


# --- the table ------------------------------------------------------------------------------------------


def fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f} ms" if v < 1 else f"{v:.2f} ms"


def table(rows: list[Row]) -> str:
    header = ("case", "dagrad median", "torch median", "ratio", "target", "result")
    lines = [
        (
            r.case,
            fmt_ms(r.dagrad_ms),
            fmt_ms(r.torch_ms),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target or "-",
            "-" if r.passed is None else ("PASS" if r.passed else "MISS"),
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *map(fmt, lines)])


def kept_memory_rows(args: argparse.Namespace) -> list[Row]:
    """Case b256 again in a fresh process with --keep-freed-memory (mallopt cannot be undone in this
    one). The ratio depends on the allocator's state (see README): both are shown, every run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "b256.json"
        cmd = [sys.executable, __file__, "--only", "b256", "--keep-freed-memory", "--json", str(out)]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--threads", str(args.threads)] if args.threads else []
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"case b256 with --keep-freed-memory failed:\n{done.stdout}\n{done.stderr}")
        cases = json.loads(out.read_text())["cases"]
    names = {f.name for f in fields(Row)}
    rows = [Row(**{k: v for k, v in c.items() if k in names}) for c in cases]
    for r in rows:
        r.case = r.case.replace("Net batch 256", "Net batch 256, freed memory kept", 1)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run, noisier numbers")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: PyTorch's own choice)")
    parser.add_argument("--only", help="comma-separated cases to run, of a, b12, b256, c (default: all)")
    parser.add_argument(
        "--keep-freed-memory",
        action="store_true",
        help="tell glibc's malloc to keep freed memory mapped, so that no run page-faults its tensors in "
        "again: both sides get faster, raw PyTorch more (see README)",
    )
    parser.add_argument(
        "--default-malloc-only",
        action="store_true",
        help="on a CPU, case b256 is also run in a second process with --keep-freed-memory; this skips that",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.keep_freed_memory:
        keep_freed_memory()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: this PyTorch sees no CUDA GPU", file=sys.stderr)
        return 2
    budget = Budget.quick() if args.quick else Budget()
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else None
    print(
        f"dagrad benchmarks: device {args.device}{f' ({gpu})' if gpu else ''}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs, python {platform.python_version()}"
        f"{', quick' if args.quick else ''}",
        flush=True,
    )
    started = time.perf_counter()
    rows: list[Row] = []
    for name, run in (
        ("a", lambda: case_dag(args.device, budget)),
        ("b12", lambda: case_net(12, args.device, budget.net_small, budget)),
        ("b256", lambda: case_net(256, args.device, budget.net_large, budget)),
        ("c", lambda: case_validate(budget)),
    ):
        if args.only and name not in args.only.split(","):
            continue
        t0 = time.perf_counter()
        new = run()
        rows += new
        print(f"  case {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        kept_too = args.device == "cpu" and glibc() and not (args.keep_freed_memory or args.default_malloc_only)
        if name == "b256" and kept_too:
            t0 = time.perf_counter()
            rows += kept_memory_rows(args)
            print(f"  case b256, freed memory kept: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    print()
    print(table(rows))
    for r in rows:
        if "dagrad_phases_ms" in r.extra:
            phases = ", ".join(f"{k.removesuffix('_ms')} {v:.2f}" for k, v in r.extra["dagrad_phases_ms"].items())
            m = r.extra["min_ms"]
            print(f"  {r.case.split(' vs ')[0]}: dagrad's own timings (median ms): {phases}")
            print(
                f"    fastest calls: dagrad {m['dagrad']:.2f} ms; raw {m['torch']:.2f}, + retain_grad "
                f"{m['retain']:.2f}, drawing too {m['drawn']:.2f}; dagrad with the backward graph "
                f"{m['graph']:.2f}, with its steps {m['steps']:.2f} ({m['steps'] / m['dagrad']:.2f}x), raw + "
                f"hooks recording every step {m['hooked']:.2f}"
            )
    http = next((r for r in rows if r.case.startswith("a. 4.1 DAG POST") and r.extra), None)
    if http is not None:  # absent when --only leaves case a out
        print(
            f"  HTTP round trips: median {http.dagrad_ms:.2f} ms, p95 {http.extra['p95_ms']:.2f} ms "
            f"over {http.extra['requests']} requests"
        )
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if args.json:
        doc = {
            "device": args.device,
            "gpu": gpu,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "quick": args.quick,
            "cases": [asdict(r) | {"ratio": r.ratio} for r in rows],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`dagrad train graph.json`: the graph's train section, run in this process, with a progress
bar (rich) and a table of the losses; flags override the section.

dagrad train graph.json [--steps N] [--optimizer sgd|adam|adamw] [--lr LR] [--momentum M]
                        [--dataset NAME] [--batch-size B] [--seed S] [--out trained.json] [--json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dagrad.graph_format import Graph

ROWS = 10  # the table's rows: steps spread over the run


def add_parser(sub: Any) -> None:
    tr = sub.add_parser("train", help="train a graph by its train section (flags override it)")
    tr.add_argument("graph", help="a graph JSON file, '-' for stdin, or an example's name")
    tr.add_argument("--steps", type=int)
    tr.add_argument("--optimizer", choices=["sgd", "adam", "adamw"])
    tr.add_argument("--lr", type=float)
    tr.add_argument("--momentum", type=float, help="SGD's momentum")
    tr.add_argument("--weight-decay", type=float)
    tr.add_argument("--dataset", help="the dataset's name (the graph's train.data must bind its nodes)")
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--seed", type=int, help="the train section's seed (shuffling, dropout)")
    tr.add_argument("--out", help="write the trained graph (its parameters as values) to this file")
    tr.add_argument("--json", action="store_true", help="print the TrainResult as JSON")


def overridden(graph: Graph, args: argparse.Namespace) -> Graph:
    """The graph with the flags written into its train section (validated as a document is)."""
    doc = graph.model_dump()
    train: dict[str, Any] = doc.get("train") or {}
    opt: dict[str, Any] = dict(train.get("optimizer") or {"name": "sgd", "lr": 1e-3})
    if args.optimizer is not None and args.optimizer != opt.get("name"):
        opt = {"name": args.optimizer, "lr": opt.get("lr", 1e-3)}  # another optimiser: its own defaults
    for key, value in (("lr", args.lr), ("momentum", args.momentum), ("weight_decay", args.weight_decay)):
        if value is not None:
            opt[key] = value
    train["optimizer"] = opt
    for key, value in (("steps", args.steps), ("seed", args.seed)):
        if value is not None:
            train[key] = value
    if args.dataset is not None or args.batch_size is not None:
        if not train.get("data"):
            raise SystemExit(
                "dagrad: --dataset and --batch-size need a train.data section that binds the graph's inputs"
            )
        data = dict(train["data"])
        if args.dataset is not None:
            data["dataset"] = {**data["dataset"], "name": args.dataset}
        if args.batch_size is not None:
            data["batch_size"] = args.batch_size
        train["data"] = data
    doc["train"] = train
    return Graph.model_validate(doc)


def cmd_train(args: argparse.Namespace, graph: Graph) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from dagrad.engine import Engine
    from dagrad.settings import Settings
    from dagrad.training import TrainPoint

    graph = overridden(graph, args)
    assert graph.train is not None
    engine = Engine(Settings())
    console = Console(stderr=True)
    with Progress(
        TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
        TimeRemainingColumn(), console=console, disable=args.json or not console.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("train", total=graph.train.steps, loss="-")

        def seen(point: TrainPoint) -> None:
            bar.update(task, advance=1, loss=f"{point.loss:.4g}")

        result = engine.train(graph, seen)
    if args.out:
        Path(args.out).write_text(result.graph.model_dump_json(indent=2, exclude_none=True) + "\n")
    if args.json:
        print(result.model_dump_json(indent=2))
        return 0
    table = Table(title=f"{result.steps} steps in {result.seconds:.2f} s ({result.reason})")
    for column in ("step", "loss", "test loss", "accuracy", "test accuracy"):
        table.add_column(column, justify="right")
    history = result.history
    every = max(1, len(history) // ROWS)
    shown = [p for p in history if p.step % every == 0 or p.step == 1]
    if history and shown[-1] is not history[-1]:
        shown.append(history[-1])
    for p in shown:
        table.add_row(str(p.step), *(_num(v) for v in (p.loss, p.test_loss, p.accuracy, p.test_accuracy)))
    Console(file=sys.stdout).print(table)
    for node in result.graph.nodes:  # a scalar parameter (the chapter's a and b) is printed as it ends
        values = node.attrs.get("values")
        if isinstance(values, float) and (node.op == "parameter" or node.attrs.get("requires_grad")):
            print(f"{node.id} = {values:.4f}")
    if args.out:
        print(f"trained graph written to {args.out}")
    return 0


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"

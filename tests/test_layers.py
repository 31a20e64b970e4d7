"""The backend's layers import only downward: graph format -> compiler (plan) -> interpreter ->
report -> engine -> API and CLI. Read from each module's own import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "backend" / "dagrad"

# What each part of dagrad may import of dagrad (a part: a top-level module or package).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "autograd": {"errors", "ops"},
    "settings": set(),
    "graph_meta": set(),  # the document's meta: an exercise's checks
    # The train section of the document: its dataset's spec is the data module's.
    "train_format": {"data"},
    "graph_format": {"graph_meta", "train_format"},
    "ops": {"errors"},
    "data": {"ops"},  # dataset sources for training: only the digits loader of ops.datasets
    "plan": {"graph_format", "graph_meta", "ops"},
    "compiler": {"autograd", "errors", "graph_format", "ops", "plan", "settings"},
    "interpreter": {"autograd", "errors", "ops", "plan"},
    "results": {"errors"},
    "report": {"autograd", "errors", "graph_format", "graph_meta", "interpreter", "ops", "plan", "results", "settings"},
    "admission": {"errors"},
    # The gradient check and per-sample gradients: runs of their own above the interpreter, beside
    # the report (per-sample gradients give payloads), below the engine.
    "gradcheck": {"compiler", "errors", "graph_format", "interpreter", "plan", "results", "settings"},
    "per_sample": {"compiler", "errors", "graph_format", "interpreter", "plan", "report", "results", "settings"},
    # Training: steps through the compiler's plans and the interpreter, above both, below the engine.
    "training": {"compiler", "data", "errors", "graph_format", "interpreter", "plan", "settings", "train_format"},
    "engine": {
        "training",
        "admission",
        "compiler",
        "errors",
        "gradcheck",
        "graph_format",
        "interpreter",
        "per_sample",
        "plan",
        "report",
        "results",
        "settings",
    },
    "examples": {"graph_format"},
}
TOP = {"api", "cli", "cli_table", "cli_train", "__init__", "__main__"}  # may import anything


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def imported_parts(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dagrad"):
            names = node.module.split(".")
            found.add(names[1] if len(names) > 1 else next(iter(a.name for a in node.names)))
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("dagrad.")}
    return found - {"__version__"}


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_has_a_rule() -> None:
    parts = {part_of(p) for p in MODULES}
    assert parts - TOP == set(ALLOWED), "add the new part of dagrad to ALLOWED (and keep imports downward)"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if part_of(p) not in TOP], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_imports_go_only_downward(path: Path) -> None:
    part = part_of(path)
    wrong = imported_parts(path) - ALLOWED[part] - {part}
    assert not wrong, f"{path.relative_to(PACKAGE)} ({part}) imports {sorted(wrong)}, which lie above it"

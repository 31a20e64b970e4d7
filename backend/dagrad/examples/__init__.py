"""The course chapter's examples, shipped as graph documents (one JSON file each).

Each file is a plain graph (the same format the API takes) whose `meta` holds
the chapter section it comes from and what the chapter prints. They are read from the
package at each call, which is cheap: every caller gets its own documents.
"""

from __future__ import annotations

from importlib import resources

from dagrad.graph_format import Graph


def load_all() -> dict[str, Graph]:
    files = sorted((p for p in resources.files(__name__).iterdir() if p.name.endswith(".json")), key=lambda p: p.name)
    return {p.name.removesuffix(".json"): Graph.model_validate_json(p.read_text()) for p in files}


def names() -> list[str]:
    return list(load_all())


def load(name: str) -> Graph | None:
    path = resources.files(__name__) / f"{name}.json"
    return Graph.model_validate_json(path.read_text()) if name.isidentifier() and path.is_file() else None

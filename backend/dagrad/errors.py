"""Errors located on a node and port, in the user's terms.

Every failure the engine reports is a `GraphError`: the canvas marks the node
(and the port or attribute) it names. A `GraphErrors` exception carries a
list of them, so a client learns every problem of a graph at once.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, Field

ErrorCode = Literal[
    "malformed",
    "unknown_op",
    "unknown_node",
    "duplicate_id",
    "bad_attribute",
    "unknown_port",
    "missing_input",
    "cycle",
    "shape",
    "dtype",
    "value",
    "limit",
    "run",
    "runtime",
    "device",
    "not_found",
    "unauthorized",
    "bad_host",
]


class GraphError(BaseModel):
    """One problem, located: the node, and where known the port or attribute."""

    node: str | None = Field(None, description="Id of the node at fault; null for the whole graph.")
    port: str | None = Field(None, description="Input port of that node, where the fault is there.")
    attribute: str | None = Field(None, description="Attribute of that node, where the fault is there.")
    code: ErrorCode = Field(description="A stable machine-readable kind of error.")
    message: str = Field(description="What is wrong and how to fix it, in the user's terms.")
    autograd: list[str] | None = Field(
        None,
        description="For a failed backward: the autograd nodes of this node the error is about, by PyTorch's "
        "names ('TanhBackward0'), as the backward graph names them.",
    )


class GraphErrors(Exception):
    """Raised with every error found; `status` is the HTTP status it maps to, `headers` any
    HTTP headers the answer carries (Retry-After on a 503)."""

    def __init__(self, errors: list[GraphError], status: int = 422, headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(describe(e) for e in errors))
        self.errors = errors
        self.status = status
        self.headers = headers


class BackwardFailed(GraphErrors):
    """A backward pass failed: an earlier pass freed the graph, or an in-place op overwrote a
    value autograd saved for it. `backward_graph` is the autograd graph as the failing pass found
    it, when the client asked for it (report/backward_graph.py fills it in)."""

    def __init__(self, errors: list[GraphError]) -> None:
        super().__init__(errors)
        self.backward_graph: object | None = None


class OpError(Exception):
    """Raised by an op's own code with a message for the user, located on one of its ports."""

    def __init__(self, message: str, port: str | None = None, code: ErrorCode = "runtime") -> None:
        super().__init__(message)
        self.port = port
        self.code = code


def describe(error: GraphError) -> str:
    """The error as one line of text, for the CLI, logs and exception messages."""
    where = []
    if error.node is not None:
        where.append(f"node {error.node!r}")
    if error.port is not None:
        where.append(f"port {error.port!r}")
    if error.attribute is not None:
        where.append(f"attribute {error.attribute!r}")
    prefix = ", ".join(where)
    return f"{prefix}: {error.message}" if prefix else error.message


def is_text(value: str) -> bool:
    """False for a str holding an unpaired UTF-16 surrogate ("\\ud800", which JSON can carry):
    Python keeps it, but it is no character and cannot be encoded as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_text(what: str, value: str) -> str:
    shown = value.encode("ascii", "backslashreplace").decode()
    return (
        f"{what} '{shown}' holds an unpaired UTF-16 surrogate, which is not a character: every name in a "
        "graph must be valid Unicode text. Remove it, or write the character it was meant to be."
    )


def fmt_shape(shape: tuple[int, ...] | list[int]) -> str:
    """Shapes are shown as PyTorch users write them: [117, 4, 10, 13]."""
    return "[" + ", ".join(str(d) for d in shape) + "]"


def dtype_name(dtype: torch.dtype) -> str:
    """Dtypes as PyTorch users write them: float32, int64."""
    return str(dtype).removeprefix("torch.")

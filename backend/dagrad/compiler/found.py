"""The errors a compile finds, each located, and the nodes they leave unusable."""

from __future__ import annotations

from dagrad.errors import ErrorCode, GraphError, GraphErrors
from dagrad.plan import TensorMeta


class CompileErrors(GraphErrors):
    """Errors of a graph, with the metas of every node that could still be inferred;
    `backward_fails`: the graph is sound but its backward, rehearsed, fails (compiler/backward.py)."""

    def __init__(self, errors: list[GraphError], metas: dict[str, TensorMeta], backward_fails: bool = False) -> None:
        super().__init__(errors)
        self.metas = metas
        self.backward_fails = backward_fails


class Found:
    """Every step of the compiler adds to one list, so that a client sees all problems at once;
    a node with an error of its own is `broken`, and its descendants are skipped quietly."""

    def __init__(self) -> None:
        self.errors: list[GraphError] = []
        self.broken: set[str] = set()

    def error(
        self,
        node: str | None,
        code: ErrorCode,
        message: str,
        port: str | None = None,
        attribute: str | None = None,
    ) -> None:
        self.add(GraphError(node=node, port=port, attribute=attribute, code=code, message=message))

    def add(self, error: GraphError) -> None:
        self.errors.append(error)
        if error.node is not None:
            self.broken.add(error.node)

"""Each node of a graph document as its line of PyTorch (the op registry's spellers, ops/spelling.py),
for POST /api/validate's `torch`: the editor shows the selected node's. Written from the document
itself, so that a graph with errors has its lines too (a relu not wired yet is `F.relu(input)`)."""

from __future__ import annotations

from pydantic import ValidationError

from dagrad.graph_format import Graph
from dagrad.ops import REGISTRY
from dagrad.ops.sources import SourceAttrs


def spelled_nodes(graph: Graph) -> dict[str, str]:
    """Node id -> its line; a node whose op is unknown or whose attributes are refused has none
    (its error says what is wrong)."""
    lines: dict[str, str] = {}
    for node in graph.nodes:
        op = REGISTRY.get(node.op)
        if op is None:
            continue
        try:
            attrs = op.attrs.model_validate(node.attrs)
        except ValidationError:
            continue
        if isinstance(attrs, SourceAttrs) and attrs.dtype is None and graph.run.dtype != "float32":
            # PyTorch's default dtype is float32: the run's other dtype is the source's to write
            attrs = attrs.model_copy(update={"dtype": graph.run.dtype})
        lines[node.id] = op.spelled(node.inputs, attrs, graph.run.training)
    return lines

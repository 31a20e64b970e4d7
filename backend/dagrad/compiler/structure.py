"""Step 1 of a compile: ids, ops, attributes, ports, references and the run settings.

The document's wiring (`inputs`: a port to one id, or to a list of ids) becomes edges here,
once; every later step reads the edges.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from pydantic import ValidationError

from dagrad.compiler.found import CompileErrors, Found
from dagrad.graph_format import Graph, Node
from dagrad.ops import REGISTRY
from dagrad.ops.registry import Attrs, OpDef
from dagrad.plan import Edge
from dagrad.settings import Settings


@dataclass
class Checked:
    """What the structure check leaves for the next steps."""

    nodes: dict[str, Node] = field(default_factory=dict)  # by id, in document order, ids unique
    ops: dict[str, OpDef] = field(default_factory=dict)  # nodes whose op exists
    attrs: dict[str, Attrs] = field(default_factory=dict)  # nodes whose attributes are valid
    # Each node's input edges, to nodes that exist: by port, a list port's in its order.
    edges: dict[str, tuple[Edge, ...]] = field(default_factory=dict)


def check_structure(graph: Graph, settings: Settings, found: Found) -> Checked:
    checked = Checked()
    if len(graph.nodes) > settings.max_nodes:
        found.error(None, "limit", f"the graph has {len(graph.nodes)} nodes; this server allows {settings.max_nodes}.")
        raise CompileErrors(found.errors, {})
    for node in graph.nodes:
        if node.id in checked.nodes:
            found.error(node.id, "duplicate_id", f"two nodes are named {node.id!r}; give each node its own id.")
            continue
        checked.nodes[node.id] = node
    for node in checked.nodes.values():
        checked.edges[node.id] = _edges(node, checked.nodes)
        _check_node(node, checked, found)
    _check_run(graph, checked.nodes, settings, found)
    return checked


def _edges(node: Node, nodes: dict[str, Node]) -> tuple[Edge, ...]:
    edges = []
    for port, src in node.inputs.items():
        if isinstance(src, list):
            edges += [Edge(ref, node.id, port, i) for i, ref in enumerate(src) if ref in nodes]
        elif src in nodes:
            edges.append(Edge(src, node.id, port))
    return tuple(edges)


def _check_node(node: Node, checked: Checked, found: Found) -> None:
    op = REGISTRY.get(node.op)
    if op is None:
        close = difflib.get_close_matches(node.op, list(REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        found.error(node.id, "unknown_op", f"unknown op {node.op!r}.{hint} GET /api/ops lists every op.")
        return
    checked.ops[node.id] = op
    try:
        checked.attrs[node.id] = op.attrs.model_validate(node.attrs)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else None
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                known = ", ".join(op.attrs.model_fields) or "none"
                msg = f"{op.name} has no attribute {name!r}; its attributes are: {known}."
            else:
                msg = f"{name}: {msg}" if name else msg
            found.error(node.id, "bad_attribute", msg, attribute=name)
    for port_name, src in node.inputs.items():
        port = op.port(port_name)
        if port is None:
            known = ", ".join(p.name for p in op.ports) or "none (it is a source)"
            found.error(
                node.id,
                "unknown_port",
                f"{op.name} has no input port {port_name!r}; its ports are: {known}.",
                port=port_name,
            )
            continue
        if port.variadic != isinstance(src, list):
            want = "a list of node ids" if port.variadic else "one node id"
            found.error(node.id, "malformed", f"port {port_name!r} takes {want}.", port=port_name)
            continue
        for ref in src if isinstance(src, list) else [src]:
            if ref not in checked.nodes:
                found.error(
                    node.id,
                    "unknown_node",
                    f"input {port_name!r} refers to {ref!r}, which is not a node of this graph.",
                    port=port_name,
                )
        if port.variadic and not src:
            found.error(node.id, "missing_input", f"port {port_name!r} needs at least one tensor.", port=port_name)
    for port in op.ports:
        if not port.optional and port.name not in node.inputs:
            found.error(
                node.id,
                "missing_input",
                f"{op.name} needs an input on port {port.name!r} ({port.doc or 'a tensor'}); connect a node to it.",
                port=port.name,
            )


def _check_run(graph: Graph, nodes: dict[str, Node], settings: Settings, found: Found) -> None:
    run = graph.run
    if run.output is not None and run.output not in nodes:
        found.error(None, "run", f"run.output is {run.output!r}, which is not a node of this graph.")
    for w in run.wrt or []:
        if w not in nodes:
            found.error(None, "run", f"run.wrt names {w!r}, which is not a node of this graph.")
    if run.backward_passes > settings.max_backward_passes:
        found.error(
            None,
            "limit",
            f"run.backward_passes is {run.backward_passes}; this server allows {settings.max_backward_passes}.",
        )

"""Step 1 of a compile: ids, ops, attributes, ports, references and the run settings.

The document's wiring (`inputs`: a port to one id, or to a list of ids) becomes edges here,
once; every later step reads the edges.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from pydantic import ValidationError

from dagrad.compiler.found import CompileErrors, Found
from dagrad.errors import is_text, not_text
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
    no_grad: set[str] = field(default_factory=set)  # nodes in a no_grad region


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
    _check_graph_text(graph, found)
    for node in checked.nodes.values():
        checked.edges[node.id] = _edges(node, checked.nodes)
        if _check_node_text(node, found):
            _check_node(node, checked, found)
    _check_run(graph, checked.nodes, settings, found)
    checked.no_grad = _check_regions(graph, checked.nodes, found)
    return checked


def _check_regions(graph: Graph, nodes: dict[str, Node], found: Found) -> set[str]:
    """The nodes of the no_grad regions; a region naming a node that is not in the graph, a node
    in two regions and two regions of one id are errors."""
    members: dict[str, str] = {}
    ids: set[str] = set()
    for region in graph.regions:
        if not is_text(region.id):
            found.error(None, "malformed", not_text("a region's id", region.id))
            continue
        if region.id in ids:
            found.error(None, "duplicate_id", f"two regions are named {region.id!r}; give each region its own id.")
        ids.add(region.id)
        for nid in region.nodes:
            if nid not in nodes:
                name = repr(nid) if is_text(nid) else "a node id that is not text"
                found.error(
                    None,
                    "unknown_node",
                    f"region {region.id!r} names {name}, which is not a node of the graph: remove it from the region.",
                )
            elif nid in members and members[nid] != region.id:
                found.error(
                    nid,
                    "malformed",
                    f"this node is in two regions, {members[nid]!r} and {region.id!r}: keep it in one.",
                )
            else:
                members[nid] = region.id
    return set(members)


def _check_node_text(node: Node, found: Found) -> bool:
    """Whether every name in the node is text (errors.is_text); each one that is not is reported
    where it is, and the node's other checks are skipped (they would quote it)."""
    refs = [r for src in node.inputs.values() for r in (src if isinstance(src, list) else [src])]
    strings = [v for v in node.attrs.values() if isinstance(v, str)]
    if is_text("".join([node.id, node.op, node.label or "", *node.inputs, *refs, *node.attrs, *strings])):
        return True  # the common case, in one encode
    ok = True

    def bad(what: str, value: str, port: str | None = None, attribute: str | None = None) -> None:
        nonlocal ok
        ok = False
        found.error(node.id, "malformed", not_text(what, value), port=port, attribute=attribute)

    for what, value in (("the node id", node.id), ("the op", node.op), ("the label", node.label or "")):
        if not is_text(value):
            bad(what, value)
    for port, src in node.inputs.items():
        if not is_text(port):
            bad("the port name", port, port=port)
        for ref in src if isinstance(src, list) else [src]:
            if not is_text(ref):
                bad(f"the node that port {port!r} refers to", ref, port=port)
    for name, value in node.attrs.items():
        if not is_text(name):
            bad("the attribute name", name, attribute=name)
        elif isinstance(value, str) and not is_text(value):
            bad(f"the value of attribute {name!r}", value, attribute=name)
    return ok


def _check_graph_text(graph: Graph, found: Found) -> None:
    named = [
        ("title", graph.title or ""),
        ("description", graph.description or ""),
        ("run.output", graph.run.output or ""),
    ]
    named += [("run.wrt names", w) for w in graph.run.wrt or []] + [("layout names", k) for k in graph.layout]
    for what, value in named:
        if not is_text(value):
            found.error(None, "malformed", not_text(what, value))


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
            elif name and not msg.startswith(name):
                msg = f"{name}: {msg}"
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
    if run.output is not None and run.wrt == []:  # torch.autograd.backward refuses empty inputs
        found.error(
            None,
            "run",
            "run.wrt is empty, so backward would keep no gradient: list the nodes to differentiate with "
            "respect to, or set it to null for every tensor that requires grad.",
        )
    if run.backward_passes > settings.max_backward_passes:
        found.error(
            None,
            "limit",
            f"run.backward_passes is {run.backward_passes}; this server allows {settings.max_backward_passes}.",
        )

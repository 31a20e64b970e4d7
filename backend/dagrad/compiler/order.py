"""Step 2 of a compile: the order nodes run in, and every cycle named."""

from __future__ import annotations

import heapq

import networkx as nx

from dagrad.compiler.found import Found
from dagrad.plan import Edge


def topological_order(edges: dict[str, tuple[Edge, ...]], found: Found) -> list[str]:
    """Topological order of the nodes (the keys of `edges`, in document order), the ready node
    first in document order: networkx's lexicographical_topological_sort. Nodes on a cycle are
    reported, each with the cycle's path, and left out."""
    return _kahn(edges) or _order_reporting_cycles(edges, found)


def _kahn(edges: dict[str, tuple[Edge, ...]]) -> list[str] | None:
    """Kahn's algorithm (a fifth of networkx's time on 200 nodes); None when a cycle leaves
    nodes unordered, for networkx to name them."""
    ids = list(edges)
    index = {nid: i for i, nid in enumerate(ids)}
    consumers: dict[str, list[str]] = {nid: [] for nid in ids}
    waiting = dict.fromkeys(ids, 0)
    for nid, inputs in edges.items():
        for source in {e.source for e in inputs}:  # one node on two ports is one dependency
            consumers[source].append(nid)
            waiting[nid] += 1
    ready = [index[nid] for nid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        nid = ids[heapq.heappop(ready)]
        order.append(nid)
        for c in consumers[nid]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, index[c])
    return order if len(order) == len(ids) else None


def _order_reporting_cycles(edges: dict[str, tuple[Edge, ...]], found: Found) -> list[str]:
    g: nx.DiGraph = nx.DiGraph()
    index = {nid: i for i, nid in enumerate(edges)}
    g.add_nodes_from(edges)
    for inputs in edges.values():
        g.add_edges_from((e.source, e.consumer) for e in inputs)
    for component in list(nx.strongly_connected_components(g)):
        if len(component) > 1 or any(g.has_edge(n, n) for n in component):
            members = sorted(component, key=index.__getitem__)
            path = [u for u, _ in nx.find_cycle(g.subgraph(members), source=members[0])]
            names = " -> ".join([*path, path[0]])
            for nid in members:
                found.error(
                    nid,
                    "cycle",
                    f"this node is on a cycle ({names}); a graph must be acyclic. Remove one of these edges.",
                )
            g.remove_nodes_from(members)
    return list(nx.lexicographical_topological_sort(g, key=index.__getitem__))

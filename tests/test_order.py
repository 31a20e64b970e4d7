"""The compiler's node order: topological, ties broken by document order, whatever order the
document lists the nodes in. networkx's lexicographical_topological_sort is the oracle."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from dagrad.engine import validate
from dagrad.graph_format import Graph


def shuffled_dag(seed: int, n_sources: int = 3, n_ops: int = 25) -> dict[str, object]:
    """Sources and add/mul/neg ops wired to random earlier nodes, listed in a shuffled order."""
    rng = random.Random(seed)
    nodes: list[dict[str, object]] = [
        {"id": f"s{i}", "op": "input", "attrs": {"shape": [2], "init": "ones"}} for i in range(n_sources)
    ]
    for i in range(n_ops):
        earlier = [str(n["id"]) for n in nodes]
        kind = rng.choice(["add", "mul", "neg"])
        if kind == "neg":
            inputs = {"input": rng.choice(earlier)}
        else:  # sometimes the same node on both ports: one edge, counted once
            inputs = {"input": rng.choice(earlier), "other": rng.choice(earlier)}
        nodes.append({"id": f"n{i}", "op": kind, "inputs": inputs})
    rng.shuffle(nodes)
    return {"nodes": nodes}


@pytest.mark.parametrize("seed", range(30))
def test_order_is_networkx_lexicographic_topological_sort(seed: int) -> None:
    doc = shuffled_dag(seed)
    graph = Graph.model_validate(doc)
    index = {node.id: i for i, node in enumerate(graph.nodes)}
    g: nx.DiGraph = nx.DiGraph()
    g.add_nodes_from(index)
    for node in graph.nodes:
        for src in node.inputs.values():
            for ref in src if isinstance(src, list) else [src]:
                g.add_edge(ref, node.id)
    expected = list(nx.lexicographical_topological_sort(g, key=index.__getitem__))
    assert validate(graph).order == expected

"""Where the palette puts a node (issue 14: nodes added by search or tap landed on top of each other):
beside the selection or in the middle of the view, never on another node. Boxes are measured on
the page, as drawn."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def boxes(page: Any) -> dict[str, dict[str, float]]:
    """Each node's box on the page, by id."""
    return dict(
        page.locator(".react-flow__node").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return [e.dataset.id, {x: r.x, y: r.y, width: r.width, height: r.height}]; })"
        )
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and (a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
    )


def assert_apart_and_in_view(page: Any, ids: list[str]) -> None:
    drawn = boxes(page)
    assert sorted(drawn) == sorted(ids)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            assert not overlap(drawn[a], drawn[b]), (a, drawn[a], b, drawn[b])
    canvas = page.locator("[data-testid=canvas]").bounding_box()
    for nid, box in drawn.items():  # each whole, in the canvas
        assert canvas["x"] <= box["x"] <= box["x"] + box["width"] <= canvas["x"] + canvas["width"], nid
        assert canvas["y"] <= box["y"] <= box["y"] + box["height"] <= canvas["y"] + canvas["height"], nid


def test_three_nodes_added_by_search_do_not_overlap(page, console: Console) -> None:
    ed = Editor(page)
    search = page.locator("[data-testid=palette-search]")
    for op in ("relu", "tanh", "matmul"):  # typed and Entered, one after another
        search.fill(op)
        search.press("Enter")
        expect(ed.node(op)).to_be_visible()
    page.wait_for_function("document.querySelectorAll('.react-flow__node').length === 3")
    assert_apart_and_in_view(page, ["relu", "tanh", "matmul"])
    # the second went beside the first, which was selected: to its right
    drawn = boxes(page)
    assert drawn["tanh"]["x"] > drawn["relu"]["x"] + drawn["relu"]["width"]
    assert console.errors == []


def test_three_taps_with_nothing_selected_do_not_overlap(browser: Any, server: str) -> None:
    """On a touch screen: tap the palette's add three times, tapping the empty canvas between (which
    deselects, as a click does), so that each goes to the middle of the view, where the one before
    already is."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server)
    page.wait_for_selector("[data-testid=palette-search]")
    for n in range(1, 4):
        page.locator("[data-testid=palette-add]").tap()
        expect(page.locator(".react-flow__node")).to_have_count(n)
        # a second tap on the pane within half a second is d3-zoom's double tap (a zoom, no click):
        # a person's taps between the palette and the canvas come slower
        page.wait_for_timeout(600)
        page.locator(".react-flow__pane").tap(position={"x": 8, "y": 8})
        expect(page.locator(".react-flow__node.selected")).to_have_count(0)
    assert_apart_and_in_view(page, ["add", "add_2", "add_3"])
    assert errors == []
    context.close()


def test_a_node_goes_around_the_nodes_of_an_example(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    before = ed.node_ids()
    ed.deselect()
    ed.add_by_keyboard("relu")
    expect(ed.node("relu")).to_be_visible()
    drawn = boxes(page)
    for nid in before:
        assert not overlap(drawn["relu"], drawn[nid]), (nid, drawn[nid], drawn["relu"])
    assert console.errors == []


def on_edge(page: Any, edge: str) -> tuple[float, float]:
    """A point of the edge's curve where the pointer meets this edge, not another over it."""
    point = page.evaluate(
        """id => { const g = document.querySelector(`[data-testid='rf__edge-${id}']`);
        const p = g.querySelector('path'), n = 40;
        for (let k = 1; k < n; k++) {
            const q = p.getPointAtLength(p.getTotalLength() * k / n).matrixTransform(p.getScreenCTM());
            if (document.elementFromPoint(q.x, q.y)?.closest('.react-flow__edge') === g) return [q.x, q.y];
        }
        return null; }""",
        edge,
    )
    assert point is not None, f"{edge} lies under other edges along its whole length"
    return point[0], point[1]


LABEL_BOXES = """() => [...document.querySelectorAll('.edge-label')].map(e => {
    const r = e.getBoundingClientRect();
    return {edge: e.dataset.edge, x: r.x, y: r.y, width: r.width, height: r.height};
})"""


@pytest.mark.parametrize("example", ["detach_side_by_side", "siamese", "weight_sharing_blah", "x3_second_derivative"])
def test_edge_labels_do_not_overlap(page, console: Console, example: str) -> None:
    """Labels of edges that fan out of one node met at their middles (issue 14); each now sits by
    the port it goes into, or elsewhere on its edge, and one with no room shows on hover."""
    ed = Editor(page)
    ed.open_example(example)
    ed.wait_valid()
    edges = ed.doc()  # every edge carries its source's shape once validated
    count = sum(len(v) if isinstance(v, list) else 1 for n in edges["nodes"] for v in n.get("inputs", {}).values())
    page.wait_for_function(
        "n => document.querySelectorAll('.edge-label').length >= n * 0.75", arg=count
    )  # most have room
    labels = page.evaluate(LABEL_BOXES)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not overlap(a, b), (a, b)
    shown = {label["edge"] for label in labels}
    all_edges = page.evaluate("window.__dagrad.graph.getState().graph.edges.map(e => e.id)")
    crowded_edges = [e for e in all_edges if e not in shown]
    if example == "x3_second_derivative":  # y -> g's label has no room by g's other inputs
        assert crowded_edges, "this example's layout leaves one label crowded: the hover is tested on it"
    for crowded in crowded_edges:  # shown while its edge is hovered
        page.mouse.move(*on_edge(page, crowded))
        expect(page.locator(f".edge-label[data-edge='{crowded}']")).to_be_visible()
        page.mouse.move(5, 5)
        expect(page.locator(f".edge-label[data-edge='{crowded}']")).to_have_count(0)
    assert console.errors == []

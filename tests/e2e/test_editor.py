"""The editor end to end, in headless Chromium against a real server."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import pytest
import torch
from playwright.sync_api import expect

from test_api import torch_dag_4_1

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e

# The 4.1 DAG: (op, name, x, y) on the page, then the edges (source, target, port).
DAG_NODES = [
    ("parameter", "w1", 330, 110),
    ("parameter", "w2", 330, 300),
    ("input", "x", 330, 490),
    ("matmul", "x1", 540, 170),
    ("matmul", "w2x1", 540, 380),
    ("add", "x2", 750, 470),
    ("add", "s", 750, 250),
    ("matmul", "x3", 960, 130),
    ("norm", "q", 960, 360),
]
DAG_EDGES = [
    ("w1", "x1", "input"),
    ("x", "x1", "other"),
    ("w2", "w2x1", "input"),
    ("x1", "w2x1", "other"),
    ("x", "x2", "input"),
    ("w2x1", "x2", "other"),
    ("x1", "s", "input"),
    ("x2", "s", "other"),
    ("w1", "x3", "input"),
    ("s", "x3", "other"),
    ("x3", "q", "input"),
]


def test_build_the_4_1_dag_with_the_mouse_and_match_pytorch(page, console: Console, screenshots: Path) -> None:
    ed = Editor(page)
    for op, name, x, y in DAG_NODES:
        ed.add(op, name, x, y)
        if op in ("parameter", "input"):
            ed.set_attr("shape", "5, 5" if op == "parameter" else "5")
            ed.set_attr("init", "uniform" if op == "parameter" else "normal")
    for source, target, port in DAG_EDGES:
        ed.connect(source, target, port)
        assert ed.has_edge(source, target, port), (source, target, port)
    assert ed.edge_count() == len(DAG_EDGES), page.evaluate(
        "JSON.stringify(window.__dagrad.graph.getState().graph.edges.map(e=>e.id))"
    )
    ed.wait_valid()
    # Live validation put the shapes on the edges and nodes before any run.
    assert page.locator("[data-testid=shape-q]").inner_text().startswith("[]")
    # The server's list: w1 and x1 each send two gradients back; x feeds two ops but needs no grad.
    assert ed.shared_badges() == {
        "w1": "w1 feeds 2 ops (x1, x3); its gradient is the sum of both uses",
        "x1": "x1 feeds 2 ops (w2x1, s); its gradient is the sum of both uses",
    }

    ed.run()
    expected = torch_dag_4_1()  # the chapter's code, in PyTorch, with the editor's seed
    q = float(page.locator("[data-testid=preview-q]").inner_text())
    assert math.isclose(q, expected["q"].item(), rel_tol=1e-4)

    page.click("[data-testid=mode-grad]")
    ed.select("w1")
    w1_grad = [[ed.table_value("grad-view", f"{i},{j}") for j in range(5)] for i in range(5)]
    torch.testing.assert_close(torch.tensor(w1_grad), expected["w1.grad"], rtol=1e-4, atol=1e-5)
    contributions = page.locator("[data-testid=contributions]")
    assert "x1" in contributions.inner_text()
    assert "x3" in contributions.inner_text()
    page.locator("[data-testid=grad-view]").get_by_role("button", name="Heatmap").click()
    page.screenshot(path=str(screenshots / "dag-4-1-gradients.png"))

    ed.select("w2")
    w2_00 = ed.table_value("grad-view", "0,0")
    assert math.isclose(w2_00, expected["w2.grad"][0, 0].item(), rel_tol=1e-4)
    assert console.errors == []


def test_shared_badges_and_accumulated_gradients_say_what_they_are(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    assert ed.shared_badges() == {
        "w1": "w1 feeds 2 ops (x1, x3); its gradient is the sum of both uses",
        "x1": "x1 feeds 2 ops (w2x1, x1_plus_x2); its gradient is the sum of both uses",
    }
    assert ed.node("w1").locator(".badge.shared").inner_text() == "shared ×2"
    assert ed.node("x").locator(".badge").count() == 0  # used twice, but it has no gradient

    ed.run()
    ed.select("w1")
    section = page.locator("[data-testid=shared-uses]")
    assert section.locator("h4").inner_text().lower() == "shared ×2"
    assert "w1 feeds 2 ops (x1, x3); its gradient is the sum of both uses." in section.inner_text()
    assert section.locator("li").all_inner_texts() == ["x1 port input", "x3 port input"]
    label = page.locator("[data-testid=grad-label]")
    assert label.inner_text() == "d q / d w1"
    one_pass = float(page.locator("[data-testid=grad-view-norm]").inner_text())

    ed.select("x")  # listed where it is used, with no claim of a sum
    assert page.locator("[data-testid=shared-uses]").count() == 0
    uses = page.locator("[data-testid=uses]").inner_text()
    assert "x feeds 2 ops (x1, x2), but it requires no grad" in uses
    assert "is the sum" not in uses

    ed.deselect()
    page.fill("#run-passes", "2")
    ed.run()
    page.wait_for_selector("[data-testid=run-status]:has-text('range(2)')")
    ed.select("w1")
    assert label.inner_text() == "w1.grad accumulated over 2 backward passes (= 2 × d q / d w1)"
    two_passes = float(page.locator("[data-testid=grad-view-norm]").inner_text())
    assert math.isclose(two_passes, 2 * one_pass, rel_tol=1e-4)
    assert "accumulated over the 2 backward passes" in page.locator("[data-testid=contributions]").inner_text()
    # The canvas names it alike: the Gradients toggle's tooltip and the node's preview.
    page.click("[data-testid=mode-grad]")
    assert page.locator("[data-testid=preview-w1]").get_attribute("title") == label.inner_text()
    toggle = page.locator("[data-testid=mode-grad]").get_attribute("title") or ""
    assert "accumulated over 2 backward passes" in toggle
    assert console.errors == []


def test_a_wrong_connection_is_refused(page) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    before = ed.edge_count()
    ed.connect("w2", "x1", "input")  # already taken by w1
    page.wait_for_selector("[data-testid=notice]:has-text('already has an input')")
    ed.select("x1")
    page.keyboard.press("Escape")
    assert ed.edge_count() == before


def test_a_shape_error_shows_on_its_node(page, console: Console, screenshots: Path) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.select("x")
    ed.set_attr("shape", "4")
    error = page.locator("[data-testid=error-x1]")
    error.wait_for()
    assert "dimension" in error.inner_text()  # what is wrong; the inspector has what to change (test_messages.py)
    assert "has-error" in (page.locator("[data-testid=node-x1]").get_attribute("class") or "")
    assert page.locator("[data-testid=node-w1].has-error").count() == 0
    page.screenshot(path=str(screenshots / "shape-error.png"))
    assert console.errors == []
    assert console.graph_errors == []  # validation carries the error in a 200, no failed request


def test_every_example_loads_and_runs_without_console_errors(
    page, server: str, console: Console, screenshots: Path
) -> None:
    ed = Editor(page)
    names = [e["name"] for e in httpx.get(f"{server}/api/examples").json()]
    assert names
    for i, name in enumerate(names):
        ed.open_example(name)
        ed.wait_valid()
        ed.run()
        assert page.locator("[data-testid=notice].error").count() == 0, name
        assert console.errors == [], (name, console.errors)
        assert console.graph_errors == [], (name, console.graph_errors)
        if name == "conv_net":
            page.click("[data-testid=mode-grad]")
            ed.select("conv1_weight")
            page.locator("[data-testid=grad-view]").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshots / "conv-net-gradients.png"))
            page.click("[data-testid=mode-value]")
        if i == 0:
            page.click("[data-testid=examples-button]")
            page.screenshot(path=str(screenshots / "examples-gallery.png"))
            page.keyboard.press("Escape")
            assert page.locator(".backdrop").count() == 0


def test_save_open_share_and_autosave_keep_the_graph_whole(page, server: str, tmp_path) -> None:
    ed = Editor(page)
    ed.open_example("tanh_net")
    ed.wait_valid()
    original = ed.doc()

    with page.expect_download() as info:
        page.click("[data-testid=save-button]")
    saved = tmp_path / "graph.json"
    info.value.save_as(saved)
    assert json.loads(saved.read_text())["nodes"] == original["nodes"]

    page.click("button:has-text('New')")
    assert ed.doc()["nodes"] == []
    # New replaced the work without a dialog, but says how to get it back, and that works.
    expect(page.locator("[data-testid=notice]")).to_contain_text("Ctrl+Z brings back the graph you had")
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    assert ed.doc()["nodes"] == original["nodes"]
    page.click("button:has-text('New')")
    page.set_input_files("[data-testid=open-input]", str(saved))
    page.wait_for_selector(".react-flow__node")
    assert ed.doc() == original

    page.click("[data-testid=share-button]")
    url = page.evaluate("location.href")
    assert "#g=" in url
    other = page.context.new_page()
    other.goto(url)
    other.wait_for_selector(".react-flow__node")
    assert Editor(other).doc() == original
    other.close()

    # Autosave writes half a second after the last change: wait until it holds this graph.
    page.wait_for_function(
        """want => {
            const text = localStorage.getItem("dagrad.autosave.v1");
            return text !== null && JSON.stringify(JSON.parse(text).nodes) === JSON.stringify(want);
        }""",
        arg=original["nodes"],
    )
    page.goto(server)
    page.wait_for_selector(".react-flow__node")
    assert ed.doc() == original


def test_the_title_and_an_exercises_instructions_are_edited_and_saved_with_the_graph(page) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.deselect()
    page.click("[data-testid=graph-title]")
    page.fill("[data-testid=graph-title-input]", "Exercise 1: weight sharing")
    page.fill("[data-testid=graph-description-input]", "Which uses of w1 add up to its gradient? Run it and look.")
    page.click("[data-testid=graph-info-save]")
    expect(page.locator("[data-testid=graph-title]")).to_contain_text("Exercise 1: weight sharing")
    expect(page.locator("[data-testid=graph-description]")).to_contain_text("Which uses of w1")
    doc = ed.doc()
    assert doc["title"] == "Exercise 1: weight sharing"
    assert doc["description"] == "Which uses of w1 add up to its gradient? Run it and look."
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")  # undoable, as every edit
    assert ed.doc()["title"] == "The DAG of 4.1, with w1 shared"

"""Editing the graph as a person would: shortcuts, copy and paste, list ports, big tensors, failed runs.

Every check waits on what the page shows (Playwright's `expect` retries), never on a fixed sleep.
"""

from __future__ import annotations

import pytest
import torch
from playwright.sync_api import Route, expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def test_keyboard_adds_deletes_undoes_and_redoes_a_node(page, console: Console) -> None:
    ed = Editor(page)
    nodes = page.locator(".react-flow__node")
    # "sum" also appears in softmax's doc: Enter must still add the op named exactly so.
    ed.add_by_keyboard("sum")
    expect(nodes).to_have_count(1)
    expect(ed.node("sum").locator(".op-name")).to_have_text("sum")
    expect(page.locator("[data-testid=inspector] .op-name")).to_have_text("sum")

    ed.select("sum")
    page.keyboard.press("Delete")
    expect(nodes).to_have_count(0)
    expect(page.locator("[data-testid=statusbar]")).to_contain_text("0 nodes")

    page.keyboard.press("Control+z")
    expect(ed.node("sum")).to_be_visible()
    expect(nodes).to_have_count(1)

    page.keyboard.press("Control+Shift+z")
    expect(nodes).to_have_count(0)
    assert console.errors == []


def test_typing_in_a_field_does_not_delete_the_node(page) -> None:
    ed = Editor(page)
    ed.add_by_keyboard("tanh")
    expect(ed.node("tanh")).to_be_visible()
    search = page.locator("[data-testid=palette-search]")
    expect(search).to_have_value("")  # Enter added it: the next search starts afresh
    # Focus is still in the search box: Backspace edits the text, not the graph.
    page.keyboard.type("re")
    page.keyboard.press("Backspace")
    expect(search).to_have_value("r")
    expect(ed.node("tanh")).to_be_visible()


def test_copy_and_paste_a_node(page, console: Console) -> None:
    ed = Editor(page)
    ed.add("parameter", "w", 500, 300)
    ed.set_attr("shape", "3, 4")
    expect(page.locator("[data-testid=shape-w]")).to_contain_text("[3, 4]")

    ed.select("w")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    nodes = page.locator(".react-flow__node")
    expect(nodes).to_have_count(2)
    copy = next(i for i in ed.node_ids() if i != "w")
    expect(ed.node(copy).locator(".op-name")).to_have_text("parameter")
    expect(page.locator(f"[data-testid=shape-{copy}]")).to_contain_text("[3, 4]")
    # The copy is the one selected, so the inspector shows it.
    expect(page.locator("[data-testid=node-id]")).to_have_value(copy)
    assert ed.doc()["nodes"][1]["attrs"] == ed.doc()["nodes"][0]["attrs"]

    page.keyboard.press("Control+z")
    expect(nodes).to_have_count(1)
    expect(ed.node("w")).to_be_visible()
    expect(ed.node(copy)).to_have_count(0)
    assert console.errors == []


def test_cat_joins_the_tensors_on_its_list_port(page, console: Console) -> None:
    ed = Editor(page)
    shapes = {"a": (2, 3), "b": (2, 5)}
    ed.add("parameter", "a", 330, 180)
    ed.set_attr("shape", "2, 3")
    ed.add("parameter", "b", 330, 420)
    ed.set_attr("shape", "2, 5")
    ed.add("cat", "c", 650, 300)
    ed.set_attr("dim", "1")
    ed.connect("a", "c", "tensors.0")
    assert ed.has_edge("a", "c", "tensors.0")
    # The list port grew a free handle once the first one was taken.
    page.locator(".react-flow__handle[data-nodeid='c'][data-handleid='tensors.1']").wait_for()
    ed.connect("b", "c", "tensors.1")
    assert ed.has_edge("b", "c", "tensors.1")
    assert ed.doc()["nodes"][2]["inputs"] == {"tensors": ["a", "b"]}
    ed.wait_valid()

    ed.run()
    expected = list(torch.cat([torch.zeros(shapes["a"]), torch.zeros(shapes["b"])], dim=1).shape)
    text = "[" + ", ".join(map(str, expected)) + "]"
    expect(page.locator("[data-testid=shape-c]")).to_contain_text(text)
    ed.select("c")
    expect(page.locator("[data-testid=value-view] .tensor-head")).to_contain_text(text)
    assert console.errors == []


@pytest.mark.parametrize("failure", ["500", "abort"])
def test_a_failed_run_leaves_the_page_working(page, console: Console, failure: str) -> None:
    ed = Editor(page)
    ed.open_example("tanh_net")
    ed.wait_valid()
    before = len(ed.node_ids())

    def fail(route: Route) -> None:
        if failure == "abort":
            route.abort()
        else:
            route.fulfill(status=500, content_type="text/plain", body="Internal Server Error")

    page.route("**/api/evaluate*", fail, times=1)
    page.click("[data-testid=run-button]")
    message = "the server answered 500." if failure == "500" else "the dagrad server cannot be reached"
    # said once, in the run's own line of the status bar, until an edit or the next run
    expect(page.locator("[data-testid=run-failed]")).to_contain_text(f"The run failed: {message}")
    expect(page.locator("[data-testid=notice].error")).to_have_count(0)
    expect(page.locator("[data-testid=run-status]")).to_have_count(0)
    run_button = page.locator("[data-testid=run-button]")
    expect(run_button).to_be_enabled()

    # Still editable: add a node, see it, take it back.
    ed.add_by_keyboard("relu")
    expect(page.locator(".react-flow__node")).to_have_count(before + 1)
    page.locator("[data-testid=canvas] .react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(page.locator(".react-flow__node")).to_have_count(before)
    ed.wait_valid()

    page.unroute("**/api/evaluate*")
    run_button.click()
    expect(page.locator("[data-testid=run-status]")).to_be_visible()
    expect(page.locator("[data-testid=statusbar] .bad")).to_have_count(0)
    expect(page.locator(".react-flow__node .op-preview").first).to_be_visible()
    # The only console errors are the failed request's own.
    assert all("500" in e or "ERR_FAILED" in e for e in console.errors), console.errors


def test_one_undo_takes_back_one_attribute_edit(page, console: Console) -> None:
    """Enter commits a value, and the blur that follows committed it again: a second undo step of
    the same value, so that the first Ctrl+Z seemed to do nothing."""
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.select("x")
    ed.set_attr("shape", "4")  # Enter
    expect(page.locator("[data-testid=validation-status]")).to_contain_text("error")
    ed.select("x1")  # the field loses focus
    page.get_by_role("button", name="Undo").click()
    ed.wait_valid()
    assert ed.doc()["nodes"][2]["attrs"]["shape"] == [5]
    assert console.errors == []

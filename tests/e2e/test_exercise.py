"""An exercise, from the teacher's page to a student's: instructions in a side note, predict then
reveal, checks marked on nodes, a share link that opens read-only, the student's copy checked
wrong then right, and the original back.

The expected numbers the teacher's page takes from its run are compared with PyTorch run here.
Every check waits on what the page shows (Playwright's `expect` retries), never on a fixed sleep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e

INSTRUCTIONS = (
    "**x3 is missing.** Build it: `x3 = w1 @ (x1 + x2)`.\n\n"
    "1. Predict `w1.grad` before you reveal it.\n"
    "2. Run, and read the checks."
)


def oracle() -> tuple[torch.Tensor, torch.Tensor]:
    """The 4.1 DAG in PyTorch, seed 0: q, and w1's gradient."""
    torch.manual_seed(0)
    w1 = torch.rand(5, 5).requires_grad_()
    w2 = torch.rand(5, 5)
    x = torch.randn(5)
    x1 = w1 @ x
    q = (w1 @ (x1 + x + w2 @ x1)).norm()
    q.backward()
    assert w1.grad is not None
    return q.detach(), w1.grad


def make_exercise(page: Any) -> str:
    """The teacher's side: the 4.1 DAG, its instructions, predict on, q's value and w1's
    gradient checked, x3 taken out for the student to build; the share link."""
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.run()
    ed.deselect()
    page.click("[data-testid=graph-title]")
    page.fill("[data-testid=graph-title-input]", "Exercise: the gradient of w1")
    page.fill("[data-testid=graph-description-input]", INSTRUCTIONS)
    page.click("[data-testid=graph-info-save]")
    page.click("[data-testid=exercise-predict]")
    # The teacher's own page now hides gradients too; a check takes the run's numbers regardless.
    ed.select("w1")
    page.click("[data-testid=check-grad]")
    expect(page.locator("[data-testid=check-w1]")).to_have_attribute("data-verdict", "unrun")
    ed.select("q")
    page.click("[data-testid=check-value]")
    ed.run()
    expect(page.locator("[data-testid=check-summary-text]")).to_have_text("2 of 2 checks pass.")
    expect(page.locator("[data-testid=check-q]")).to_have_attribute("data-verdict", "pass")

    exercise = ed.doc()["meta"]["exercise"]
    assert exercise["predict"] is True
    q, w1_grad = oracle()
    checks = {(c["node"], c["of"]): c for c in exercise["checks"]}
    assert set(checks) == {("w1", "grad"), ("q", "value")}
    assert checks[("w1", "grad")]["shape"] == [5, 5]
    expected_grad = torch.tensor(checks[("w1", "grad")]["values"]).reshape(5, 5)
    torch.testing.assert_close(expected_grad, w1_grad, rtol=1e-6, atol=1e-7)
    assert checks[("q", "value")]["values"] == [pytest.approx(q.item(), rel=1e-6)]

    ed.select("x3")
    page.keyboard.press("Delete")
    expect(ed.node("x3")).to_have_count(0)
    assert ("q", "value") in {(c["node"], c["of"]) for c in ed.doc()["meta"]["exercise"]["checks"]}
    page.click("[data-testid=share-button]")
    url = str(page.evaluate("location.href"))
    assert "#g=" in url
    return url


def refused(student: Any, ed: Editor, nodes_before: list[str]) -> None:
    """Nothing a student does to the read-only graph changes it."""
    notice = student.locator("[data-testid=notice]")
    ed.select("x1")
    student.keyboard.press("Delete")
    field = student.locator("[data-testid=node-id]")
    field.fill("mine")
    field.press("Enter")
    expect(student.locator("[data-testid=inspector] .field-error")).to_contain_text("read-only: Make my copy")
    expect(field).to_have_value("x1")
    at = ed.doc()["layout"]["w2"]
    box = ed.node("w2").locator(".op-head").bounding_box()
    student.mouse.move(box["x"] + 20, box["y"] + 5)
    student.mouse.down()
    student.mouse.move(box["x"] + 140, box["y"] + 90, steps=6)
    student.mouse.up()
    assert ed.doc()["layout"]["w2"] == at
    # The palette's Enter adds nothing either, and says why.
    ed.add_by_keyboard("tanh")
    expect(notice).to_contain_text("read-only: Make my copy")
    assert ed.node_ids() == nodes_before
    assert ed.doc()["nodes"][3]["id"] == "x1"


def test_an_exercise_shared_read_only_copied_and_checked(
    page, browser, server: str, console: Console, screenshots: Path
) -> None:
    url = make_exercise(page)

    # A student's browser: its own storage, as on another machine.
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    student = context.new_page()
    student.on("console", console.on_message)
    student.on("pageerror", console.on_error)
    student.goto(url)
    ed = Editor(student)
    bar = student.locator("[data-testid=share-bar]")
    expect(bar).to_have_attribute("data-viewing", "true")
    expect(bar).to_contain_text("read-only")

    # The instructions, as Markdown, beside the graph.
    note = student.locator("[data-testid=exercise-note]")
    expect(note.locator("strong")).to_have_text("x3 is missing.")
    expect(note.locator("[data-testid=exercise-note-text] li")).to_have_count(2)
    expect(note.locator("code").first).to_have_text("x3 = w1 @ (x1 + x2)")
    expect(note.locator("[data-testid=predict-bar]")).to_be_visible()
    expect(note.locator("[data-testid=check-summary-text]")).to_have_text(
        "2 checks: run the graph to see if it matches."
    )

    nodes = ed.node_ids()
    assert "x3" not in nodes
    refused(student, ed, nodes)
    assert student.evaluate("localStorage.getItem('dagrad.autosave.v1')") is None  # a view saves nothing

    student.click("[data-testid=make-copy]")
    expect(bar).to_have_attribute("data-viewing", "false")
    expect(bar.locator("[data-testid=reset-original]")).to_be_visible()
    student.click("[data-testid=exercise-note-close]")  # room to build
    expect(note).to_have_count(0)

    # Built wrong first: x3 = w1 @ x1.
    canvas = student.locator("[data-testid=canvas]").bounding_box()
    ed.add("matmul", "x3", canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] - 140)
    ed.connect("w1", "x3", "input")
    ed.connect("x3", "q", "input")
    ed.connect("x1", "x3", "other")
    ed.wait_valid()
    ed.run()
    student.click("[data-testid=exercise-note-open]")
    expect(student.locator("[data-testid=check-summary-text]")).to_have_text("0 of 2 checks pass.")
    for node in ("q", "w1"):
        expect(student.locator(f"[data-testid=check-{node}]")).to_have_attribute("data-verdict", "fail")
    expect(note).to_contain_text("q's value differs")

    # Predict, then reveal: w1's gradient is hidden on its node and in the inspector until asked.
    student.click("[data-testid=mode-grad]")
    expect(ed.node("w1").locator("[data-testid=reveal-w1]")).to_be_visible()
    expect(student.locator("[data-testid=preview-w1]")).to_have_count(0)
    # nor does the canvas's colour scale give away the hidden gradients' size
    legend = student.locator("[data-testid=canvas-legend]")
    expect(legend.locator("[data-testid=legend-hidden]")).to_be_visible()
    expect(legend.locator(".colorbar")).to_have_count(0)
    ed.select("w1")
    inspector = student.locator("[data-testid=inspector]")
    expect(inspector.locator("[data-testid=grad-hidden-w1]")).to_contain_text("Predict w1's gradient first")
    expect(inspector.locator("[data-testid=grad-view]")).to_have_count(0)
    inspector.locator("[data-testid=reveal-w1]").click()
    expect(inspector.locator("[data-testid=grad-view]")).to_be_visible()
    expect(student.locator("[data-testid=preview-w1]")).to_be_visible()
    expect(student.locator("[data-testid=reveal-q]")).to_be_visible()  # the others stay hidden
    # the scale is now w1's gradient's range alone (the other heatmap gradients, still hidden, left out)
    stats = student.evaluate("() => window.__dagrad.results.getState().run.nodes.w1.grad.stats")
    top = float(legend.locator(".colorbar-ticks span").last.inner_text())
    assert top == pytest.approx(max(abs(stats["min"]), abs(stats["max"])), rel=1e-3)

    # Then right: x3 = w1 @ (x1 + x2) (the last wire undone, the right one drawn).
    student.locator("[data-testid=canvas]").focus()
    student.keyboard.press("Control+z")
    student.wait_for_function("() => !window.__dagrad.graph.getState().graph.edges.some(e => e.id === 'x1->x3.other')")
    ed.connect("x1_plus_x2", "x3", "other")
    ed.wait_valid()
    assert {(n["id"], n["inputs"].get("other")) for n in ed.doc()["nodes"] if n["id"] == "x3"} == {("x3", "x1_plus_x2")}
    ed.run()
    expect(student.locator("[data-testid=check-summary-text]")).to_have_text("2 of 2 checks pass.")
    for node in ("q", "w1"):
        expect(student.locator(f"[data-testid=check-{node}]")).to_have_attribute("data-verdict", "pass")
    student.click("[data-testid=reveal-all]")
    expect(student.locator("[data-testid=preview-q]")).to_be_visible()
    student.click(".react-flow__controls-fitview")
    ed.select("w1")
    student.screenshot(path=str(screenshots / "exercise-checked.png"))

    # The copy is the student's: the link opened again (the page left at once: autosave writes as
    # it goes) finds it, wired as it was, and the original comes back.
    student.goto("about:blank")
    student.goto(url)
    expect(bar).to_have_attribute("data-viewing", "false")
    expect(ed.node("x3")).to_be_visible()
    assert ed.has_edge("x1_plus_x2", "x3", "other")
    student.click("[data-testid=reset-original]")
    expect(ed.node("x3")).to_have_count(0)
    expect(student.locator("[data-testid=notice]")).to_contain_text("Ctrl+Z brings your version back")
    context.close()
    assert console.errors == []


def test_a_links_description_is_markdown_without_its_authors_html(page, browser, console: Console) -> None:
    """The note renders what Markdown makes and nothing of raw HTML: a script stays text, a
    javascript: link is no link, an image is not fetched (a shared link must not make the page
    load what its author chose)."""
    doc = {
        "nodes": [{"id": "x", "op": "parameter", "attrs": {"init": "values", "values": [-3.0, 2.0, 5.0]}}],
        "description": (
            "# Watch out\n<script>window.__pwned = 1</script><img src=x onerror='window.__pwned = 2'>\n\n"
            "[a trap](javascript:window.__pwned=3) [the docs](https://pytorch.org/docs) ![pic](https://example.org/p.png)"
        ),
        "meta": {"exercise": {"predict": True}},
    }
    page.evaluate("doc => window.__dagrad.graph.getState().loadDoc(doc)", doc)
    page.click("[data-testid=share-button]")
    url = str(page.evaluate("location.href"))
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    student = context.new_page()
    student.on("console", console.on_message)
    student.on("pageerror", console.on_error)
    student.goto(url)
    text = student.locator("[data-testid=exercise-note-text]")
    expect(text.locator("h1")).to_have_text("Watch out")
    expect(text).to_contain_text("<script>window.__pwned = 1</script><img src=x")
    expect(text).to_contain_text("[a trap](javascript:window.__pwned=3)")
    # Links only to http(s): the image is a link to it, not fetched; each opens a new tab.
    expect(text.locator("a")).to_have_count(2)
    links = text.locator("a").evaluate_all("els => els.map(e => [e.getAttribute('href'), e.target, e.rel])")
    assert links == [
        ["https://pytorch.org/docs", "_blank", "noopener noreferrer"],
        ["https://example.org/p.png", "_blank", "noopener noreferrer"],
    ]
    assert text.locator("script, img").count() == 0
    assert student.evaluate("window.__pwned") is None
    context.close()
    assert console.errors == []

"""Presentation mode and the tablet (issue 14): what a projector's back row and a 1024 px touch
screen get, measured from the DOM (font sizes × the canvas's zoom, bounding boxes, hit tests).

Every check waits on what the page shows (Playwright's `expect` retries), never on a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Console, editor_page
from .editor import Editor

pytestmark = pytest.mark.e2e

ZOOM = "() => new DOMMatrix(getComputedStyle(document.querySelector('.canvas .react-flow__viewport')).transform).a"

# The smallest node title as the screen shows it: its font size times the canvas's zoom.
TITLE_PX = """() => {
  const zoom = new DOMMatrix(getComputedStyle(document.querySelector('.canvas .react-flow__viewport')).transform).a;
  const titles = [...document.querySelectorAll('.canvas .react-flow__node :is(.op-name, .op-id)')];
  return Math.min(...titles.map((e) => parseFloat(getComputedStyle(e).fontSize))) * zoom;
}"""

# The smallest font of the numbers in an element, on screen: CSS zoom included (the scale).
NUMBERS_PX = """(root) => Math.min(...[...root.querySelectorAll('td, .stats dd')]
  .map((e) => parseFloat(getComputedStyle(e).fontSize) * e.currentCSSZoom))"""

# Whether any node's box on screen overlaps the minimap's (it must not, while the map is shown).
MAP_OVER_NODE = """() => {
  const map = document.querySelector('.react-flow__minimap').getBoundingClientRect();
  return [...document.querySelectorAll('.canvas .react-flow__node')].some((n) => {
    const r = n.getBoundingClientRect();
    return r.left < map.right && map.left < r.right && r.top < map.bottom && map.top < r.bottom;
  });
}"""


@pytest.fixture
def small(browser: Any, server: str, console: Console) -> Iterator[Any]:
    """A page at a projector's 1280×720."""
    with editor_page(browser, server, console, viewport={"width": 1280, "height": 720}) as pg:
        yield pg


@pytest.fixture
def tablet(browser: Any, server: str, console: Console) -> Iterator[Any]:
    """A 1024×768 touch screen."""
    with editor_page(browser, server, console, viewport={"width": 1024, "height": 768}, has_touch=True) as pg:
        yield pg


def wait_zoom_settled(page: Any) -> float:
    """The canvas's zoom once a fit has been applied (it changes from React Flow's first 1)."""
    page.wait_for_function(f"({ZOOM})() !== 1")
    return float(page.evaluate(ZOOM))


def test_a_projector_reads_the_4_1_dag_and_the_net(small, console: Console, screenshots: Path) -> None:
    page, ed = small, Editor(small)
    page.keyboard.press("p")  # presentation mode: both panels fold away
    expect(page.locator("[data-testid=palette-search]")).to_have_count(0)
    expect(page.locator("aside.inspector")).to_have_count(0)
    expect(page.locator("[data-testid=presentation-button]")).to_have_attribute("aria-pressed", "true")

    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.tool("fit-button")
    wait_zoom_settled(page)
    assert page.evaluate(TITLE_PX) >= 14
    # It does not fit whole at that size: Fit starts at its inputs, the rest a drag away.
    expect(ed.node("x")).to_be_in_viewport()
    expect(ed.node("w1")).to_be_in_viewport()
    expect(ed.node("q")).not_to_be_in_viewport()
    pane = page.locator(".canvas .react-flow__pane").bounding_box()
    page.mouse.move(pane["x"] + pane["width"] - 60, pane["y"] + 60)
    page.mouse.down()
    page.mouse.move(pane["x"] + 60, pane["y"] + 60, steps=8)
    page.mouse.up()
    expect(ed.node("q")).to_be_in_viewport()
    ed.tool("fit-button")
    expect(ed.node("x")).to_be_in_viewport()

    ed.run()
    page.click("[data-testid=mode-grad]")
    ed.tool("fit-button")
    expect(ed.node("x")).to_be_in_viewport()
    page.screenshot(path=str(screenshots / "presentation-dag-4-1.png"))

    ed.open_example("conv_net")
    ed.wait_valid()
    ed.tool("fit-button")
    assert page.evaluate(TITLE_PX) >= 9

    # The inspector back: a tensor's numbers read 12 px or more.
    page.keyboard.press("]")
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.run()
    ed.select("x")
    view = page.locator("[data-testid=value-view]")
    view.get_by_role("button", name="Table").click()
    expect(view.locator("td").first).to_be_visible()
    assert view.evaluate(NUMBERS_PX) >= 12
    assert console.errors == []


def test_the_panels_fold_by_key_and_button_and_stay_folded(small, console: Console) -> None:
    page = small
    palette = page.locator("[data-testid=palette-search]")
    inspector = page.locator("aside.inspector")
    canvas = page.locator("[data-testid=canvas]")
    whole = canvas.bounding_box()["width"]

    page.keyboard.press("[")
    expect(palette).to_have_count(0)
    expect(inspector).to_be_visible()
    page.keyboard.press("]")
    expect(inspector).to_have_count(0)
    assert canvas.bounding_box()["width"] > whole + 500  # the canvas takes the room

    page.click("[data-testid=toggle-palette]")
    expect(palette).to_be_visible()
    page.click("[data-testid=toggle-inspector]")
    expect(inspector).to_be_visible()
    page.click("[data-testid=toggle-inspector]")
    expect(inspector).to_have_count(0)

    # "/" searches the palette even when it is folded: it opens first.
    page.keyboard.press("[")
    expect(palette).to_have_count(0)
    page.keyboard.press("/")
    expect(palette).to_be_focused()

    # Remembered by this browser: the inspector is still folded after a reload, the palette open.
    page.reload()
    expect(palette).to_be_visible()
    expect(inspector).to_have_count(0)

    page.click("[data-testid=presentation-button]")  # P's button: both away, then both back
    expect(palette).to_have_count(0)
    expect(inspector).to_have_count(0)
    page.keyboard.press("p")
    expect(palette).to_be_visible()
    expect(inspector).to_be_visible()
    assert console.errors == []


def test_the_scale_grows_the_panels_and_the_canvas_and_is_remembered(small, console: Console) -> None:
    page, ed = small, Editor(small)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    before = wait_zoom_settled(page)
    palette = page.locator("aside.palette")
    width = palette.bounding_box()["width"]
    search_px = page.locator("[data-testid=palette-search]").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize) * e.currentCSSZoom"
    )

    page.click("[data-testid=toolbar-more]")
    page.click("[data-testid=scale-150]")
    expect(page.locator("[data-testid=toolbar-menu]")).to_have_count(0)
    # The panels' text and their width grow by half; so does the canvas's zoom.
    page.wait_for_function(f"Math.abs(({ZOOM})() / {before * 1.5} - 1) < 1e-3")
    assert palette.bounding_box()["width"] == pytest.approx(width * 1.5, abs=1)
    grown = page.locator("[data-testid=palette-search]").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize) * e.currentCSSZoom"
    )
    assert grown == pytest.approx(search_px * 1.5)

    page.reload()
    page.wait_for_selector("[data-testid=palette-search]")
    assert palette.bounding_box()["width"] == pytest.approx(width * 1.5, abs=1)
    page.click("[data-testid=toolbar-more]")
    expect(page.locator("[data-testid=scale-150]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=toolbar-menu]")).to_have_count(0)
    # Fit keeps titles at 150% of a desk's readable 9 px.
    ed.tool("fit-button")
    page.wait_for_function(f"({TITLE_PX})() >= 13.5 - 1e-9")
    assert console.errors == []


def test_the_minimap_hides_itself_when_it_would_cover_a_node(small, console: Console) -> None:
    page, ed = small, Editor(small)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    wait_zoom_settled(page)
    minimap = page.locator(".react-flow__minimap")
    expect(minimap).to_be_visible()
    assert page.evaluate(MAP_OVER_NODE) is False
    map_box = minimap.bounding_box()

    # Move x under the minimap: the map goes, so x shows.
    head = ed.node("x").locator(".op-head").bounding_box()
    page.mouse.move(head["x"] + 20, head["y"] + head["height"] / 2)
    page.mouse.down()
    page.mouse.move(map_box["x"] + map_box["width"] / 2, map_box["y"] + map_box["height"] / 2, steps=10)
    page.mouse.up()
    expect(minimap).to_have_count(0)
    expect(ed.node("x")).to_be_in_viewport()

    page.keyboard.press("Control+z")  # x goes back where it was: the map returns
    expect(minimap).to_be_visible()
    assert page.evaluate(MAP_OVER_NODE) is False

    # Panning w1 under the map hides it too.
    w1 = ed.node("w1").bounding_box()
    pane = page.locator(".canvas .react-flow__pane").bounding_box()
    start = (pane["x"] + 30, pane["y"] + 60)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(
        start[0] + map_box["x"] + map_box["width"] / 2 - (w1["x"] + w1["width"] / 2),
        start[1] + map_box["y"] + map_box["height"] / 2 - (w1["y"] + w1["height"] / 2),
        steps=10,
    )
    page.mouse.up()
    expect(minimap).to_have_count(0)
    assert console.errors == []


def test_the_toolbar_fits_one_line_on_a_tablet(tablet, console: Console) -> None:
    page, ed = tablet, Editor(tablet)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    toolbar = page.locator("header.toolbar").bounding_box()
    assert toolbar["height"] <= 48
    boxes = page.locator("header.toolbar button:visible").evaluate_all(
        "els => els.map((e) => { const r = e.getBoundingClientRect(); return [r.top, r.bottom, r.right]; })"
    )
    assert len(boxes) >= 8
    tops = [t for t, _, _ in boxes]
    assert max(tops) - min(tops) < 2, f"the toolbar's buttons are on more than one row: {sorted(tops)}"
    assert all(b <= toolbar["y"] + toolbar["height"] for _, b, _ in boxes)
    assert all(r <= 1024 for _, _, r in boxes)

    # What did not fit is in the "⋯" menu, and works from there.
    ed.tool("backward-toggle")
    expect(page.locator("[data-testid=toolbar-menu]")).to_have_count(0)
    expect(page.locator("[data-testid=backward-toggle]")).to_have_count(0)  # the menu closed
    ed.run()
    expect(page.locator(".backward .react-flow__node").first).to_be_visible()
    # The canvas gets the height a one-line toolbar leaves.
    assert page.locator("[data-testid=canvas]").bounding_box()["height"] >= 768 - 48 - 40
    assert console.errors == []


SMALL_TARGETS = """() => [...document.querySelectorAll('button, select, input')]
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([, r]) => r.width > 0 && r.height > 0 && (r.width < 24 || r.height < 24))
  .map(([e, r]) => `${e.tagName} ${e.dataset.testid ?? e.textContent.trim()} ${r.width}×${r.height}`)"""

# For each port's handle in view (its centre on it, its square inside the canvas), whether a press
# 11 px from its centre, in each diagonal, lands on it.
HANDLE_HITS = """() => {
  const canvas = document.querySelector('.canvas').getBoundingClientRect();
  return [...document.querySelectorAll('.canvas .react-flow__handle')].map((h) => {
  const r = h.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const inView = cx - 12 > canvas.left && cx + 12 < canvas.right && cy - 12 > canvas.top && cy + 12 < canvas.bottom;
  if (!inView || document.elementFromPoint(cx, cy)?.closest('.react-flow__handle') !== h) return null;
  const hit = [[-11, -11], [11, -11], [-11, 11], [11, 11]].every(([dx, dy]) =>
    document.elementFromPoint(cx + dx, cy + dy)?.closest('.react-flow__handle') === h);
  return [`${h.dataset.nodeid}.${h.dataset.handleid}`, r.width, hit];
  }).filter(Boolean);
}"""


POSITION = "() => window.__dagrad.graph.getState().graph.nodes.find((n) => n.id === 'ID').position.x"


def touch_drag(page: Any, start: tuple[float, float], end: tuple[float, float], steps: int = 10) -> None:
    """A finger pressed at `start`, moved to `end`, lifted: real touch events, through the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def centre(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_touch_targets_and_wiring_and_moving_by_touch(tablet, console: Console) -> None:
    page, ed = tablet, Editor(tablet)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.run()
    ed.select("x")
    assert page.evaluate(SMALL_TARGETS) == []
    page.click("[data-testid=toolbar-more]")
    assert page.evaluate(SMALL_TARGETS) == []
    page.keyboard.press("Escape")
    # Fit keeps ports 24 px apart on a touch screen (zoom 1 or more); each port keeps a small dot,
    # and takes a press anywhere in the 24 px square around it.
    assert page.evaluate(ZOOM) >= 1
    hits = page.evaluate(HANDLE_HITS)
    assert len(hits) >= 6
    assert all(w <= 12 for _, w, _ in hits)
    assert [name for name, _, hit in hits if not hit] == []

    page.click("[data-testid=new-button]")
    search = page.locator("[data-testid=palette-search]")
    for op in ("parameter", "tanh"):
        search.fill(op)
        search.press("Enter")
    expect(page.locator(".canvas .react-flow__node")).to_have_count(2)

    # Move tanh off parameter by a finger on its title.
    before = ed.node("tanh").bounding_box()
    moved = POSITION.replace("ID", "tanh")
    was = page.evaluate(moved)
    x, y = centre(ed.node("tanh").locator(".op-head").bounding_box())
    touch_drag(page, (x, y), (x + 160, y + 70))
    page.wait_for_function(f"({moved})() > {was} + 100")
    after = ed.node("tanh").bounding_box()
    # It follows the finger (React Flow starts the drag at the first move, one step of ten after the press).
    assert after["x"] - before["x"] == pytest.approx(160 * 9 / 10, abs=3)
    assert after["y"] - before["y"] == pytest.approx(70 * 9 / 10, abs=3)

    # Wire parameter → tanh by touch, pressing 8 px off the dots' centres: inside the targets, outside the dots.
    src = centre(page.locator(".react-flow__handle[data-nodeid='parameter'][data-handleid='out']").bounding_box())
    dst = centre(page.locator(".react-flow__handle[data-nodeid='tanh'][data-handleid='input']").bounding_box())
    touch_drag(page, (src[0] + 8, src[1] + 8), (dst[0] - 8, dst[1] - 8))
    page.wait_for_function("window.__dagrad.graph.getState().graph.edges.length === 1")
    assert ed.has_edge("parameter", "tanh", "input")
    assert console.errors == []


def test_wiring_by_pointer_at_tablet_size(tablet, console: Console) -> None:
    ed = Editor(tablet)
    ed.add("parameter", "w", 330, 250)
    ed.add("tanh", "t", 560, 420)
    ed.connect("w", "t", "input")
    assert ed.has_edge("w", "t", "input")
    ed.wait_valid()
    assert console.errors == []


def test_a_tablet_held_upright_starts_with_the_canvas_not_a_strip(browser: Any, server: str, screenshots: Path) -> None:
    """At 768×1024 the palette starts folded (the inspector open): the canvas keeps room for the
    graph; "Ops »" brings the palette back, and the page remembers it open."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = context.new_page()
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_error)
    try:
        page.goto(server)
        tab = page.locator("[data-testid=toggle-palette]")
        expect(tab).to_have_attribute("aria-expanded", "false")
        expect(page.locator("[data-testid=palette-search]")).to_have_count(0)
        canvas = page.locator("[data-testid=canvas]").bounding_box()
        assert canvas is not None
        assert canvas["width"] >= 400, canvas
        ed = Editor(page)
        ed.open_example("train_moons_mlp")
        ed.wait_valid()
        expect(ed.node("loss")).to_be_visible()
        page.screenshot(path=str(screenshots / "tablet-upright.png"))
        tab.tap()
        expect(page.locator("[data-testid=palette-search]")).to_be_visible()
        page.reload()
        expect(page.locator("[data-testid=palette-search]")).to_be_visible()  # left open: it stays open
        assert console.errors == []
    finally:
        context.close()

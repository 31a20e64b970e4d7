"""Tensors as a student sees them (issue 14): small ones print their numbers on the node as PyTorch
prints them, larger ones are heatmaps on one colour scale for the whole canvas, and a conv layer's
maps are picked by sample and channel in the inspector, fetched whole without a word of the API's
options, and kept inside the panel."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from playwright.sync_api import expect
from torch._tensor_str import _tensor_str

from example_oracles import ORACLES
from servers import dagrad_server

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e

# What a student must never read: the API's query parameters and its notes for scripts.
JARGON = re.compile(r"\?full|full=|max_elements|left out|Ask for it|same request", re.IGNORECASE)

SMALL_AND_LARGE = {
    "version": 1,
    "nodes": [
        {"id": "x", "op": "input", "attrs": {"init": "values", "values": [-3.0, 2.0, 5.0], "requires_grad": True}},
        {"id": "y", "op": "mul", "inputs": {"input": "x", "other": "x"}},
        {"id": "sy", "op": "sum", "inputs": {"input": "y"}},
        {"id": "a", "op": "parameter", "attrs": {"shape": [4, 5], "init": "arange", "start": -10.0}},
        {"id": "three", "op": "constant", "attrs": {"shape": [], "value": 3.0}},
        {"id": "b", "op": "mul", "inputs": {"input": "a", "other": "three"}},
        {"id": "sb", "op": "sum", "inputs": {"input": "b"}},
        {"id": "loss", "op": "add", "inputs": {"input": "sy", "other": "sb"}},
    ],
    "run": {"output": "loss"},
}


def printed(t: torch.Tensor) -> str:
    """What print(t) shows inside "tensor(...)", as a node of 29 columns shows it."""
    with torch._tensor_str.printoptions(linewidth=29):
        return _tensor_str(t.detach(), 0)


def first_pixel(page: Any, node: str) -> list[int]:
    """The RGBA of element 0 of a node's heatmap (the canvas holds one pixel per element)."""
    canvas = page.locator(f"[data-testid=preview-{node}] canvas.heatmap")
    return list(canvas.evaluate("c => Array.from(c.getContext('2d').getImageData(0, 0, 1, 1).data)"))


def load(page: Any, doc: dict[str, Any]) -> Editor:
    ed = Editor(page)
    page.evaluate("doc => window.__dagrad.graph.getState().loadDoc(doc)", doc)
    ed.wait_valid()
    ed.run()
    return ed


def test_small_tensors_print_their_numbers_and_large_ones_share_one_colour_scale(page, console: Console) -> None:
    x = torch.tensor([-3.0, 2.0, 5.0], requires_grad=True)
    a = (torch.arange(20.0) - 10).reshape(4, 5).requires_grad_()
    y = x * x
    b = a * 3
    (y.sum() + b.sum()).backward()
    assert x.grad is not None
    assert a.grad is not None

    load(page, SMALL_AND_LARGE)
    numbers = page.locator("[data-testid=preview-x] [data-testid=preview-numbers]")
    expect(numbers).to_have_text(printed(x))  # [-3.,  2.,  5.]
    assert numbers.text_content() == "[-3.,  2.,  5.]"
    expect(page.locator("[data-testid=preview-y] [data-testid=preview-numbers]")).to_have_text(printed(y))
    # 20 elements: a heatmap, no numbers.
    expect(page.locator("[data-testid=preview-a] canvas.heatmap")).to_be_visible()
    expect(page.locator("[data-testid=preview-a] [data-testid=preview-numbers]")).to_have_count(0)

    # One scale for the canvas: its legend spans the largest |value| of the heatmaps (b's 30), and a,
    # a third of b, is drawn paler than b for the same element.
    legend = page.locator("[data-testid=canvas-legend]")
    ticks = legend.locator(".colorbar-ticks span")
    top = b.abs().max().item()
    expect(ticks).to_have_text([f"{-top:g}", "0", f"{top:g}"])
    pale, deep = first_pixel(page, "a"), first_pixel(page, "b")  # -10 and -30: blue
    assert pale[0] > deep[0] + 100, (pale, deep)
    # Each its own scale: the same colour for each node's own largest value, and its range said.
    page.click("[data-testid=scale-switch]")
    expect(page.locator("[data-testid=preview-a] .preview-range")).to_have_text("±10")
    assert first_pixel(page, "a") == first_pixel(page, "b")
    page.click("[data-testid=scale-switch]")
    assert first_pixel(page, "a") == pale

    # Gradients mode: x's gradient 2x in numbers, the legend on the gradients' own scale (a's 3).
    page.click("[data-testid=mode-grad]")
    grad = page.locator("[data-testid=preview-x] [data-testid=preview-numbers]")
    expect(grad).to_have_text(printed(x.grad))  # [-6.,  4., 10.]
    assert grad.text_content() == "[-6.,  4., 10.]"
    expect(legend).to_contain_text("Gradients")
    top = a.grad.abs().max().item()
    expect(ticks).to_have_text([f"{-top:g}", "0", f"{top:g}"])

    # The inspector prints them too, larger.
    Editor(page).select("x")
    expect(page.locator("[data-testid=grad-view-numbers]")).to_have_text(_tensor_str(x.grad, 0))
    box = page.locator("[data-testid=grad-view-numbers]")
    assert float(box.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 12
    assert console.errors == []


def tiles(page: Any) -> Any:
    return page.locator("[data-testid=value-view] .mosaic-tile")


def assert_inside_the_panel(page: Any) -> None:
    """Every map of the mosaic, and the whole value view, lie inside the inspector's width."""
    panel = page.locator(".inspector").bounding_box()
    right = panel["x"] + panel["width"]
    view = page.locator("[data-testid=value-view]").bounding_box()
    assert panel["x"] <= view["x"], (panel, view)
    assert view["x"] + view["width"] <= right + 0.5, (panel, view)
    for box in tiles(page).evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())"):
        assert panel["x"] <= box["x"], (panel, box)
        assert box["right"] <= right + 0.5, (panel, box)
    scroll = page.locator(".inspector").evaluate("e => e.scrollWidth - e.clientWidth")
    assert scroll <= 0, "the inspector scrolls sideways"


def hover_element(page: Any, tile: Any, row: int, col: int, h: int, w: int) -> str:
    box = tile.locator("canvas").bounding_box()
    page.mouse.move(box["x"] + (col + 0.5) * box["width"] / w, box["y"] + (row + 0.5) * box["height"] / h)
    return page.locator("[data-testid=value-view] .hover-readout").inner_text()


def test_the_digits_nets_maps_by_sample_and_channel(page, console: Console, screenshots: Path) -> None:
    c1 = ORACLES["conv_net_digits"](0).values["c1"]  # the Net on digits, by hand in PyTorch
    ed = Editor(page)
    ed.open_example("conv_net_digits")
    ed.wait_valid()
    ed.run()
    ed.select("c1")
    view = page.locator("[data-testid=value-view]")
    view.scroll_into_view_if_needed()
    # A first look: the first digit through each of the 32 filters, inside the panel.
    expect(tiles(page)).to_have_count(32)
    assert tiles(page).evaluate_all("els => els.map(e => e.dataset.index)") == [f"0,{c}" for c in range(32)]
    assert_inside_the_panel(page)
    page.screenshot(path=str(screenshots / "conv-digits.png"))

    # One sample and one channel: that one map, and hovering it reads c1[3, 5] element by element.
    view.locator("[data-testid=pick-sample]").select_option("3")
    view.locator("[data-testid=pick-channel]").select_option("5")
    expect(tiles(page)).to_have_count(1)
    expect(view.locator("[data-testid=map-slice]")).to_have_text("[3, 5, :, :]")
    # The gradient's mosaic shows the same map: one pick for the node.
    expect(page.locator("[data-testid=grad-view] [data-testid=map-slice]")).to_have_text("[3, 5, :, :]")
    tile = tiles(page).first
    assert tile.get_attribute("data-index") == "3,5"
    assert tile.locator("canvas").bounding_box()["width"] > 150  # one map fills the panel
    for r, c in [(0, 0), (2, 6), (4, 3), (7, 7)]:
        text = hover_element(page, tile, r, c, 8, 8)
        index, value = text.split(" = ")
        assert index == f"[3, 5, {r}, {c}]"
        assert math.isclose(float(value), c1[3, 5, r, c].item(), rel_tol=1e-5, abs_tol=1e-6), (text, c1[3, 5, r, c])
    assert_inside_the_panel(page)

    # Channel 5 of every sample; then everything, paged rather than 384 specks.
    view.locator("[data-testid=pick-sample]").select_option("all")
    expect(tiles(page)).to_have_count(12)
    assert tiles(page).evaluate_all("els => els.map(e => e.dataset.index)") == [f"{s},5" for s in range(12)]
    view.locator("[data-testid=pick-channel]").select_option("all")
    expect(tiles(page)).to_have_count(48)
    expect(view.locator("[data-testid=mosaic-page]")).to_have_text("maps 1–48 of 384")
    view.get_by_role("button", name="Next").click()
    expect(view.locator("[data-testid=mosaic-page]")).to_have_text("maps 49–96 of 384")
    assert tiles(page).first.get_attribute("data-index") == "1,16"
    assert_inside_the_panel(page)

    # The batch: twelve digits a person reads (0, 1, 2, ...), one channel each.
    ed.select("input1")
    expect(tiles(page)).to_have_count(12)
    assert_inside_the_panel(page)
    expect(view.locator(".map-pick").first).to_contain_text("sample")
    # A conv weight [32, 1, 3, 3]: its maps are filters, picked by out and in channel.
    ed.select("conv1_weight")
    expect(tiles(page)).to_have_count(32)
    expect(view.locator(".map-pick")).to_have_text([re.compile("^out channel"), re.compile("^in channel")])
    assert not JARGON.search(page.locator("body").inner_text())
    assert console.errors == []


@pytest.mark.parametrize("size", [(1280, 720), (1024, 768)])
def test_the_chapters_net_is_fetched_whole_without_jargon_and_fits(browser, server: str, size: tuple[int, int]) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_error)
    try:
        page.goto(server)
        ed = Editor(page)
        ed.open_example("conv_net")
        ed.wait_valid()
        ed.run()
        ed.select("c1")  # [12, 32, 24, 24]: more than a run sends; the page asks for it itself
        expect(tiles(page)).to_have_count(32)
        expect(page.locator("[data-testid=whole-status]")).to_have_count(0)
        assert not JARGON.search(page.locator("body").inner_text())
        assert_inside_the_panel(page)
        # Its gradient came whole with it; its table and downloads are there as for any tensor.
        expect(page.locator("[data-testid=grad-view] .mosaic-tile")).to_have_count(32)
        view = page.locator("[data-testid=value-view]")
        expect(view.locator(".tensor-head")).to_contain_text("[12, 32, 24, 24]")
        expect(view.get_by_role("button", name="Download .npy")).to_be_visible()
        view.get_by_role("button", name="Table").click()
        expect(view.locator("[data-testid=value-view-table] td[data-index='0,0,0,0']")).to_be_visible()
        # The input batch, once cut off on the right: twelve 28x28 maps inside the panel.
        ed.select("input1")
        expect(tiles(page)).to_have_count(12)
        assert_inside_the_panel(page)
        assert console.errors == []
    finally:
        context.close()


def test_a_tensor_the_server_will_not_send_says_so_in_plain_words(browser) -> None:
    doc = {
        "version": 1,
        "nodes": [{"id": "big", "op": "input", "attrs": {"shape": [40, 50], "init": "uniform"}}],
        "run": {},
    }
    with dagrad_server(DAGRAD_MAX_PAYLOAD_ELEMENTS="1000") as url:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        try:
            page.goto(url)
            page.wait_for_selector("[data-testid=palette-search]")
            ed = load(page, doc)
            ed.select("big")
            status = page.locator("[data-testid=value-view] [data-testid=whole-status]")
            expect(status).to_contain_text("This tensor has 2,000 numbers, more than this server sends")
            assert not JARGON.search(page.locator("body").inner_text())
            # Its statistics are still there.
            expect(page.locator("[data-testid=value-view-norm]")).not_to_be_empty()
        finally:
            context.close()

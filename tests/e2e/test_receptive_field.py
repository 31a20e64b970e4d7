"""Receptive fields in the editor (issue 15): a new user loads the chapter's Net, clicks a pixel of
conv2's output and sees its receptive field on the input image, which region is which said in
words, at 1280×720."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def tiles(page: Any) -> Any:
    return page.locator("[data-testid=value-view] .mosaic-tile")


def pixel(tile: Any, row: int, col: int) -> list[int]:
    """The RGBA of one element of a tile's map (one canvas pixel per element)."""
    return list(
        tile.locator("canvas").evaluate(f"c => Array.from(c.getContext('2d').getImageData({col}, {row}, 1, 1).data)")
    )


def click_element(page: Any, tile: Any, row: int, col: int, h: int, w: int) -> None:
    tile.scroll_into_view_if_needed()
    box = tile.locator("canvas").bounding_box()
    page.mouse.click(box["x"] + (col + 0.5) * box["width"] / w, box["y"] + (row + 0.5) * box["height"] / h)


def test_a_pixel_of_conv2_shows_its_field_on_the_input(browser, server: str, screenshots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
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
        ed.select("c2")  # [12, 64, 4, 4]
        view = page.locator("[data-testid=value-view]")
        expect(view.locator("[data-testid=field-hint]")).to_contain_text("Click an element")
        view.locator("[data-testid=pick-sample]").select_option("0")
        view.locator("[data-testid=pick-channel]").select_option("3")
        expect(tiles(page)).to_have_count(1)
        click_element(page, tiles(page).first, 2, 1, 4, 4)
        legend = view.locator("[data-testid=field-legend]")
        expect(legend).to_contain_text("Receptive field of c2[0, 3, 2, 1]")
        expect(legend).to_contain_text("can influence it, whatever the data")
        expect(legend).to_contain_text("gradient non-zero for this input")
        expect(view.locator("[data-testid=field-summary]")).to_contain_text("This is the clicked element")

        # On the input image: rows 6-24 and columns 3-21 of sample 0 (5×5, then 3×3 pooling, then 5×5).
        ed.select("input1")
        view.locator("[data-testid=pick-sample]").select_option("0")
        expect(tiles(page)).to_have_count(1)
        summary = view.locator("[data-testid=field-summary]")
        expect(summary).to_contain_text("On input1: 361 of 9,408 elements can influence it, whatever the data")
        expect(summary).to_contain_text("have a non-zero gradient for this input")
        tile = tiles(page).first
        inside, outside = pixel(tile, 15, 12), pixel(tile, 0, 0)
        assert inside[1] > inside[2] + 40, inside  # amber or green: the field
        assert max(outside[:3]) < 200, outside  # dimmed: outside it
        # The canvas marks every upstream node's preview.
        expect(page.locator("[data-testid=preview-input1] [data-testid=preview-field]")).to_be_visible()
        # The edge out of conv1, its label hovered, shows the arithmetic that gave its size.
        page.locator("[data-edge='c1->p1.input']").hover()
        expect(page.locator("[data-testid=windows-c1]")).to_contain_text("⌊(28 + 2·0 − 1·(5 − 1) − 1) / 1⌋ + 1 = 24")
        tile.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / "receptive-field-input.png"))

        # Max pooling routes the gradient to one element per window: fewer than can influence.
        ed.select("c1")
        text = view.locator("[data-testid=field-summary]").inner_text()
        can, grad = (int(part.split()[0].replace(",", "")) for part in text.removeprefix("On c1: ").split(";"))
        assert grad < can == 32 * 15 * 15, text

        # An edit clears the field: its masks were of the graph as it was.
        view.locator("[data-testid=field-clear]").click()
        expect(view.locator("[data-testid=field-hint]")).to_be_visible()
        assert console.errors == []
    finally:
        context.close()


def test_a_small_tensors_elements_are_clicked_in_its_table(page, console: Console) -> None:
    """The 4.1 DAG's vectors print as numbers: their table is as clickable as a map, and a field
    over a small tensor colours its table's cells (the numbers view turns into the table)."""
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.run()
    ed.select("x3")  # [5] = w1 @ s
    view = page.locator("[data-testid=value-view]")
    expect(view.locator("[data-testid=value-view-numbers]")).to_be_visible()
    view.get_by_role("button", name="Table").click()
    view.locator("[data-testid=value-view-table] td[data-index='2']").click()
    expect(view.locator("[data-testid=field-legend]")).to_contain_text("Receptive field of x3[2]")
    clicked = view.locator("[data-testid=value-view-table] td[data-index='2']")
    expect(clicked).to_have_attribute("style", re.compile("outline"))
    # x3[2] = w1[2, :] @ (w1 @ x + x2): every element of x reaches it, its gradient non-zero
    ed.select("x")
    cells = view.locator("[data-testid=value-view-table] td")
    expect(cells).to_have_count(5)
    assert [c.get_attribute("data-field") for c in cells.all()] == ["2"] * 5
    expect(view.locator("[data-testid=field-summary]")).to_contain_text("On x: 5 of 5 elements")
    assert console.errors == []

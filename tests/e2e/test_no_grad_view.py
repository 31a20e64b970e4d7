"""A no_grad region drawn in the page: on the 4.1 DAG, x1 and w2x1 selected with the mouse and put
under no_grad; the nodes are shown untracked and why, the edges into the region are cut, and the
run's gradients are PyTorch's for the same code under torch.no_grad()."""

from __future__ import annotations

import math
import re

import pytest
import torch
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def test_a_no_grad_region_drawn_with_the_mouse(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    page.locator(".react-flow__node[data-id='x1'] .op-head").click()
    page.locator(".react-flow__node[data-id='w2x1'] .op-head").click(modifiers=["Shift"])
    ed.tool("no-grad-button")  # in the row, or in the ⋯ menu when the row is full
    region = page.locator("[data-testid=region-no_grad_1]")
    expect(region).to_be_visible()
    assert ed.doc()["regions"] == [{"id": "no_grad_1", "kind": "no_grad", "nodes": ["x1", "w2x1"], "label": None}]
    ed.wait_valid()
    expect(ed.node("x1").locator(".op-node")).to_have_class(re.compile(r"\btrack-untracked\b"))
    expect(page.locator(".react-flow__edge[data-testid='rf__edge-w1->x1.input'] .edge-cut")).to_have_count(1)
    ed.deselect()
    ed.select("x1")
    expect(page.locator("[data-testid=why-grad]")).to_contain_text("computed under no_grad (region no_grad_1)")

    # The same code in PyTorch.
    torch.manual_seed(0)
    w1 = torch.rand(5, 5, requires_grad=True)
    w2 = torch.rand(5, 5, requires_grad=True)
    x = torch.empty(5).normal_()
    with torch.no_grad():
        x1 = w1 @ x
        w2x1 = w2 @ x1
    x2 = x + w2x1
    x3 = w1 @ (x1 + x2)
    x3.norm().backward()
    assert w1.grad is not None
    assert w2.grad is None

    ed.run()
    ed.select("w1")
    assert math.isclose(
        float(page.locator("[data-testid=grad-view-norm]").inner_text()), w1.grad.norm().item(), rel_tol=1e-4
    )
    ed.select("w2")
    expect(page.locator("[data-testid=grad-view]")).to_have_count(0)  # no gradient reaches w2

    # Resized by its corner over x2 as well: the region takes in every node whose centre the
    # frame now covers, measured here on the screen.
    frame = region.bounding_box()
    target = ed.node("x2").bounding_box()
    assert frame is not None
    assert target is not None
    corner = page.locator("[data-testid=region-se-no_grad_1]").bounding_box()
    assert corner is not None
    to = (target["x"] + target["width"] / 2 + 12, target["y"] + target["height"] / 2 + 12)
    to = (max(to[0], frame["x"] + frame["width"]), max(to[1], frame["y"] + frame["height"]))
    page.mouse.move(corner["x"] + corner["width"] / 2, corner["y"] + corner["height"] / 2)
    page.mouse.down()
    page.mouse.move(*to, steps=8)
    covered = []
    for nid in ed.node_ids():
        box = ed.node(nid).bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        if frame["x"] <= cx <= to[0] and frame["y"] <= cy <= to[1]:
            covered.append(nid)
    page.mouse.up()
    assert "x2" in covered
    expect(ed.node("x2").locator(".op-node")).to_have_class(re.compile(r"\btrack-untracked\b"))
    assert sorted(ed.doc()["regions"][0]["nodes"]) == sorted(covered)
    page.keyboard.press("Control+z")  # undoable, as every edit
    assert ed.doc()["regions"][0]["nodes"] == ["x1", "w2x1"]

    page.click("[data-testid=region-remove-no_grad_1]")
    expect(region).to_have_count(0)
    assert "regions" not in ed.doc()
    assert console.errors == []

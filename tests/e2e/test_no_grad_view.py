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
    page.click("[data-testid=no-grad-button]")
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

    page.click("[data-testid=region-remove-no_grad_1]")
    expect(region).to_have_count(0)
    assert "regions" not in ed.doc()
    assert console.errors == []

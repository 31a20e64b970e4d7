"""The backward graph beside the canvas, end to end: blah(k, x) of the chapter, whose autograd
graph has a chain per application of w (one for u, three for v) and w[0] twice; hovering links an
autograd node and the node whose op made it, both ways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dagrad import examples
from example_oracles import ORACLES
from test_backward_graph import torch_form

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e

LINKED = re.compile(r"\blinked\b")


def test_the_backward_graph_of_blah_beside_the_canvas(page, console: Console, screenshots: Path) -> None:
    ed = Editor(page)
    ed.open_example("weight_sharing_blah")
    ed.wait_valid()
    page.click("[data-testid=backward-toggle]")
    expect(page.locator("[data-testid=backward-summary]")).to_contain_text("Press Run")
    ed.run()

    # As many autograd nodes as PyTorch's graph of the chapter's code has, with its names.
    seed = examples.load_all()["weight_sharing_blah"].run.seed
    [root] = ORACLES["weight_sharing_blah"](seed).roots
    expected = torch_form(root)
    view = page.locator("[data-testid=backward-view]")
    nodes = view.locator(".ag-node")
    expect(nodes).to_have_count(len(expected))
    expect(page.locator("[data-testid=backward-summary]")).to_contain_text(f"{len(expected)} autograd nodes, from q")
    names = sorted(nodes.locator(".ag-name").all_inner_texts())
    assert names == sorted(name for name, _, _ in expected)
    # w[0] is indexed twice: two SelectBackward0 made by two index nodes; one AccumulateGrad into w.
    owners = nodes.evaluate_all("els => els.map(e => [e.querySelector('.ag-name').textContent, e.dataset.owner])")
    assert sorted(o for n, o in owners if n == "SelectBackward0") == ["u_w0", "v_w0", "v_w1", "v_w2"]
    assert [o for n, o in owners if n == "AccumulateGrad"] == ["w"]

    # Hovering an autograd node lights up the node that made it on the canvas, and back.
    u_tanh = view.locator(".ag-node[data-owner=u]")
    u_tanh.hover()
    expect(page.locator("[data-testid=node-u]")).to_have_class(LINKED)
    page.locator("[data-testid=node-v_w0]").hover()
    expect(view.locator(".ag-node[data-owner=v_w0]")).to_have_class(LINKED)
    expect(u_tanh).not_to_have_class(LINKED)
    # The saved tensors, on the autograd node that keeps them.
    expect(view.locator(".ag-node[data-owner=q] .ag-saved")).to_have_text(
        ["self: u [10] freed", "tensor: v [10] freed"]
    )
    page.screenshot(path=str(screenshots / "backward-graph-blah.png"))

    # The divider between the two graphs gives one more room (kept for the next visit), and a
    # double-click shares it half and half again.
    canvas = page.locator("[data-testid=canvas]")
    half = canvas.bounding_box()
    bar = page.locator("[data-testid=split-divider]").bounding_box()
    assert half is not None
    assert bar is not None
    page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + 200)
    page.mouse.down()
    page.mouse.move(bar["x"] + 200, bar["y"] + 200, steps=5)
    page.mouse.up()
    wider = canvas.bounding_box()
    assert wider is not None
    assert wider["width"] > half["width"] + 150
    assert float(page.evaluate("localStorage.getItem('dagrad.split')")) > 0.5
    page.dblclick("[data-testid=split-divider]")
    back = canvas.bounding_box()
    assert back is not None
    assert abs(back["width"] - half["width"]) < 2

    page.click("[data-testid=backward-toggle]")
    expect(view).to_have_count(0)
    expect(page.locator(".palette")).to_be_visible()
    assert console.errors == []

"""Backward passes in the page: .grad after each pass as the chapter prints it, zero_grad, and
retain_graph off meeting the error PyTorch raises, on the nodes that saved what was freed."""

from __future__ import annotations

import re

import pytest
import torch
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def torch_passes(passes: int, zero_grad: bool) -> list[str]:
    """The chapter's u = (x ** 3).sum() at x = (-3, 2, 5), backward `passes` times: x.grad after each."""
    x = torch.tensor([-3.0, 2.0, 5.0], requires_grad=True)
    u = x.pow(3).sum()
    after = []
    for i in range(passes):
        if zero_grad:
            x.grad = None
        u.backward(retain_graph=i < passes - 1)
        assert x.grad is not None
        after.append("(" + ", ".join(f"{v:g}" for v in x.grad.tolist()) + ")")
    return after


def test_the_accumulation_timeline_zero_grad_and_retain_graph(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("pow3_backward")
    ed.wait_valid()
    ed.deselect()
    page.fill("#run-passes", "3")
    ed.wait_valid()
    ed.run()
    ed.select("x")
    timeline = page.locator("[data-testid=grad-timeline] li")
    expect(timeline).to_have_count(3)
    assert [t.split("pass ")[1][2:] for t in timeline.all_inner_texts()] == torch_passes(3, zero_grad=False)
    expect(page.locator("[data-testid=grad-label]")).to_contain_text("accumulated over 3 backward passes")

    ed.deselect()
    page.check("#run-zero-grad")
    ed.wait_valid()
    ed.run()
    ed.select("x")
    expect(timeline).to_have_count(3)
    assert [t.split("pass ")[1][2:] for t in timeline.all_inner_texts()] == torch_passes(3, zero_grad=True)
    expect(page.locator("[data-testid=grad-label]")).to_contain_text("zeroed before each")

    # retain_graph never: validation already says that pass 2 needs what pass 1 freed, on the loss
    # and on the node whose op saved it.
    ed.deselect()
    page.select_option("#run-retain", "off")
    expect(page.locator("[data-testid=error-u]")).to_have_attribute("title", re.compile(re.escape("retain_graph")))
    expect(page.locator("[data-testid=error-x_pow3]")).to_have_attribute(
        "title", re.compile(re.escape("PowBackward0 (self)"))
    )

    # Run anyway, with the backward graph shown: it is the graph pass 1 left, and the error is on
    # the autograd node whose saved tensor pass 1 freed, as PyTorch's own graph shows it.
    x = torch.tensor([-3.0, 2.0, 5.0], requires_grad=True)
    u = x.pow(3).sum()
    u.backward()
    pow_fn = u.grad_fn.next_functions[0][0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        pow_fn._saved_self  # noqa: B018 -- reading it is the test
    page.click("[data-testid=backward-toggle]")
    page.click("[data-testid=run-button]")
    expect(page.locator("[data-testid=backward-failed]")).to_be_visible()
    failing = page.locator(f".ag-node:has(.ag-name:text-is('{type(pow_fn).__name__}'))")
    expect(failing).to_have_attribute("data-owner", "x_pow3")
    expect(failing.locator(".ag-saved.freed")).to_contain_text("self: x [3] freed")
    expect(failing.locator(".ag-error")).to_contain_text("turn retain_graph on")
    expect(page.locator(".ag-error")).to_have_count(1)
    assert console.errors == []

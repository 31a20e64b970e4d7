"""The gradient check and per-sample gradients in the page (issue 15, parts 3 and 4): a student
checks the 4.1 DAG's gradients and sees every node agree, on the node; picks samples of a batch
and sees their gradients add up to the batch gradient."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from playwright.sync_api import expect

from graph_builder import decode

from .editor import Editor

pytestmark = pytest.mark.e2e


def test_gradient_check_on_the_nodes(page: Any) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.tool("gradcheck-button")
    for node in ("w1", "w2", "x1", "x3", "q"):
        badge = page.locator(f"[data-testid=gradcheck-{node}]")
        expect(badge).to_have_text(__import__("re").compile(r"^✓ "))
    assert "Gradient check: every gradient agrees with finite differences" in page.inner_text("body")
    title = page.locator("[data-testid=gradcheck-w1]").get_attribute("title") or ""
    assert "25 of 25 elements checked" in title
    # An edit of the graph's content: the report no longer describes it, and goes.
    ed.select("x1")
    page.keyboard.press("Delete")
    expect(page.locator("[data-testid^=gradcheck-]")).to_have_count(0)


def test_per_sample_gradients_add_up(page: Any, server: str) -> None:
    ed = Editor(page)
    ed.open_example("sequential_mlp")
    ed.wait_valid()
    ed.run()
    params = page.evaluate(
        "Object.entries(window.__dagrad.results.getState().metas).filter(([, m]) => m.is_leaf && m.requires_grad)"
        ".map(([id]) => id)"
    )
    param = params[0]
    ed.select(param)
    page.click("[data-testid=per-sample-load]")
    verdict = page.locator("[data-testid=per-sample-verdict]")
    expect(verdict).to_contain_text("batch gradient")
    index = page.locator("[data-testid=per-sample-index]")
    expect(index).to_have_value("0")
    # The page's gradient of sample 1 is the server's answer for sample 1 (checked against torch
    # in tests/test_per_sample.py): picking it by its bar shows it.
    page.locator("[data-testid=per-sample] .norms button").nth(1).click()
    expect(index).to_have_value("1")
    shown = page.evaluate("window.__dagrad.analysis.getState().perSample")
    assert shown["sample"] == 1
    doc = page.evaluate("window.__dagrad.graph.getState().graph")
    assert doc
    grad = next(p for p in shown["params"] if p["node"] == param)["grad"]
    assert decode(grad).shape == torch.Size(shown["params"][0]["grad"]["shape"])
    expect(page.locator("[data-testid=per-sample-grad]")).to_be_visible()

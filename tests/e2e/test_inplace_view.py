"""An in-place write in the page: the gallery's relu after sigmoid, its inplace turned on, gets
the error on the node whose saved value was overwritten and on the in-place node; an in-place
write backward does not mind shows the version counters PyTorch gives."""

from __future__ import annotations

import re

import pytest
import torch
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def test_the_inplace_error_lands_on_both_nodes_and_versions_show(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("sigmoid_inplace_relu")
    ed.wait_valid()
    ed.run()
    expect(page.locator("[data-testid^=version-]")).to_have_count(0)  # inplace off: nothing overwritten

    ed.select("r")
    page.check("[data-testid=attr-inplace]")
    expect(page.locator("[data-testid=error-s]")).to_have_attribute("title", re.compile(re.escape("SigmoidBackward0")))
    expect(page.locator("[data-testid=error-s]")).to_have_attribute("title", re.compile(re.escape("now version 1")))
    expect(page.locator("[data-testid=error-r]")).to_have_attribute(
        "title", re.compile(re.escape("turn inplace off here"))
    )
    expect(page.locator("[data-testid=error-x]")).to_have_count(0)

    # An in-place relu after neg, which saves nothing: backward runs, and the tensor neg made was
    # written once, as in PyTorch (a graph loaded as Open... would load it).
    x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    n = torch.neg(x)
    torch.relu_(n)
    doc = {
        "version": 1,
        "nodes": [
            {"id": "x", "op": "parameter", "attrs": {"init": "values", "values": [-1.0, 0.5, 2.0]}},
            {"id": "n", "op": "neg", "inputs": {"input": "x"}},
            {"id": "r", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "n"}},
            {"id": "loss", "op": "sum", "inputs": {"input": "r"}},
        ],
        "run": {"output": "loss"},
    }
    page.evaluate("doc => window.__dagrad.graph.getState().loadDoc(doc)", doc)
    ed.wait_valid()
    ed.run()
    for nid in ("n", "r"):  # one tensor: neg's value, then relu_'s
        expect(page.locator(f"[data-testid=version-{nid}]")).to_have_text(f"v{n._version}")
    expect(page.locator("[data-testid=version-x]")).to_have_count(0)
    assert console.errors == []

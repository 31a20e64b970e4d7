"""How requires_grad flows, in the page: on the 4.1 DAG before any run, w1 is a leaf that requires
grad, x is not tracked, x1 is tracked; the edges out of x are drawn apart from those out of w1;
the inspector says why, in the user's terms, and after a run names the grad_fn PyTorch made."""

from __future__ import annotations

import re

import pytest
import torch
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def test_requires_grad_flow_on_the_4_1_dag(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    # PyTorch's view of the same tensors, the oracle of what is drawn.
    torch.manual_seed(0)
    w1 = torch.rand(5, 5, requires_grad=True)
    x = torch.empty(5).normal_()
    x1 = w1 @ x
    expected = {
        "w1": "leaf" if w1.is_leaf and w1.requires_grad else "?",
        "x": "untracked" if not x.requires_grad else "?",
        "x1": "tracked" if x1.requires_grad and not x1.is_leaf else "?",
    }
    for nid, kind in expected.items():
        expect(ed.node(nid).locator(".op-node")).to_have_class(re.compile(rf"\btrack-{kind}\b"))
    edges = page.locator(".react-flow__edge-path")
    expect(page.locator(".react-flow__edge[data-testid='rf__edge-x->x1.other'] .edge-untracked")).to_have_count(1)
    expect(page.locator(".react-flow__edge[data-testid='rf__edge-w1->x1.input'] .edge-tracked")).to_have_count(1)
    assert edges.count() > 0

    ed.select("x1")
    expect(page.locator("[data-testid=why-grad]")).to_have_text(
        "x1 requires grad because its input w1 (a parameter) does: autograd records matmul to differentiate it."
    )
    ed.select("x")
    expect(page.locator("[data-testid=why-grad]")).to_contain_text("x does not require grad")

    ed.run()
    expect(ed.node("x1").locator(".rg")).to_have_text(type(x1.grad_fn).__name__)  # MvBackward0
    assert console.errors == []

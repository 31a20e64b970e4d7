"""A second derivative in the page: d²/dx² of x³ at x = 2, by two grad nodes, with the backward
graph that create_graph recorded drawn beside the canvas."""

from __future__ import annotations

import pytest
import torch
from playwright.sync_api import expect
from torch._tensor_str import _tensor_str

from test_backward_graph import torch_form

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


def test_a_second_derivative_and_the_graph_create_graph_recorded(page, console: Console) -> None:
    x = torch.tensor(2.0, requires_grad=True)
    y = x**3
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    (g2,) = torch.autograd.grad(g, x, retain_graph=True)

    ed = Editor(page)
    ed.open_example("x3_second_derivative")
    ed.wait_valid()
    page.click("[data-testid=backward-toggle]")
    ed.run()
    # As print() shows them: tensor(12., grad_fn=...), 3x² = 12 and 6x = 12.
    expect(page.locator("[data-testid=preview-g]")).to_have_text(_tensor_str(g.detach(), 0))
    expect(page.locator("[data-testid=preview-g2]")).to_have_text(_tensor_str(g2.detach(), 0))

    # The graph y's grad node walks, and the derivative's own, which create_graph recorded.
    view = page.locator("[data-testid=backward-view]")
    names = sorted(view.locator(".ag-name").all_inner_texts())
    walked = {name for form in (torch_form(y), torch_form(g)) for name, _, _ in form}
    assert set(names) == walked
    assert len(names) == len({id(fn) for fn in _reach(y.grad_fn) | _reach(g.grad_fn)})
    expect(view.locator(".ag-node[data-owner=g]").first).to_be_visible()  # made by the grad node
    assert console.errors == []


def _reach(fn: object) -> set[object]:
    seen: dict[int, object] = {}
    stack = [fn]
    while stack:
        f = stack.pop()
        if f is None or id(f) in seen:
            continue
        seen[id(f)] = f
        stack.extend(n for n, _ in f.next_functions)  # type: ignore[attr-defined]
    return set(seen.values())

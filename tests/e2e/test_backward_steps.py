"""Stepping through backward, end to end: the 4.1 DAG's backward pass in the order autograd ran
it, each step lit on both graphs with its rule typeset by KaTeX (under the page's CSP), and w1's
.grad filling up from its two uses, the first contribution, then the second, then their sum."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dagrad import examples
from dagrad.engine import Engine
from dagrad.results import PayloadOptions

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e

CURRENT = re.compile(r"\bcurrent\b")
STEPPING = re.compile(r"\bstepping\b")


def expected_steps() -> list[tuple[str, str | None]]:
    """The steps the server records for the 4.1 DAG: (autograd node, the node whose op made it)."""
    response = Engine().evaluate(examples.load_all()["dag_4_1"], PayloadOptions(backward_steps=True))
    assert response.backward_steps is not None
    assert response.backward_graph is not None
    nodes = response.backward_graph.nodes
    return [(nodes[s.node].name, nodes[s.node].node) for s in response.backward_steps]


def w1_grad_norm() -> float:
    response = Engine().evaluate(examples.load_all()["dag_4_1"], PayloadOptions())
    grad = response.nodes["w1"].grad
    assert grad is not None
    assert grad.stats.norm is not None
    return grad.stats.norm


def test_stepping_through_the_backward_of_the_4_1_dag(page, console: Console, screenshots: Path) -> None:
    steps = expected_steps()
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    page.click("[data-testid=backward-toggle]")
    count = page.locator("[data-testid=step-count]")
    expect(count).to_contain_text("Run to step through backward")
    ed.run()
    expect(count).to_have_text(f"{len(steps)} steps: press › or .")

    title = page.locator("[data-testid=step-title]")
    view = page.locator("[data-testid=backward-view]")

    def at(k: int) -> None:
        """Step k (from 0) is shown, lit on both graphs."""
        name, owner = steps[k]
        expect(count).to_have_text(f"Step {k + 1} of {len(steps)}")
        expect(title).to_contain_text(name)
        expect(title).to_contain_text(f"{owner}")
        expect(view.locator(".ag-node.current")).to_have_count(1)
        expect(view.locator(".ag-node.current")).to_have_attribute("data-owner", owner or "")
        expect(page.locator(f"[data-testid=node-{owner}]")).to_have_class(STEPPING)

    # Forward with the key, one step at a time, as autograd ran them.
    page.keyboard.press(".")
    at(0)
    expect(page.locator("[data-testid=step-incoming]")).to_contain_text("1")  # backward starts from 1
    # x3 = w1 @ s: its MvBackward0 sends w1 its first share, by matmul's rule.
    uses = [k for k, (name, owner) in enumerate(steps) if name == "MvBackward0" and owner in ("x1", "x3")]
    first, second = uses
    for k in range(1, first + 1):
        page.click("[data-testid=step-forward]")
        at(k)
    rule = page.locator("[data-testid=rule-input]")
    expect(rule).to_have_attribute("data-tex", re.compile(r"grad\\_input.*grad\\_out.*other.*\\top"))
    expect(rule.locator(".katex")).to_have_count(1)  # typeset, not left as its source
    expect(rule).to_contain_text("5×5")  # the actual shapes, written under the symbols
    fill = page.locator("[data-testid=fill-w1]")
    expect(page.locator("[data-testid=fill-text-w1]")).to_have_text("w1: 1 of 2 uses have sent their share so far")
    expect(fill.locator("[data-testid=fill-from-w1]")).to_have_count(1)
    expect(fill.locator("[data-testid=fill-from-w1]")).to_contain_text("from x3")

    # On to x1 = w1 @ x: the second share, with the same rule.
    for _ in range(first, second):
        page.keyboard.press(".")
    at(second)
    expect(page.locator("[data-testid=rule-input] .katex")).to_have_count(1)
    expect(page.locator("[data-testid=fill-text-w1]")).to_have_text("w1: 2 of 2 uses have sent their share so far")
    expect(fill.locator("[data-testid=fill-from-w1]")).to_have_text([re.compile("from x3"), re.compile("from x1")])

    # The last step: AccumulateGrad adds their sum to w1.grad, which is the run's gradient.
    page.keyboard.press("End")
    at(len(steps) - 1)
    assert steps[-1] == ("AccumulateGrad", "w1")
    expect(page.locator("[data-testid=fill-text-w1]")).to_have_text(
        "w1.grad = the sum of its 2 uses' shares (AccumulateGrad ran)"
    )
    total = page.locator("[data-testid=fill-sum-w1]")
    expect(total.locator(".katex")).to_have_count(1)
    norm = float(re.search(r"‖·‖ ([-\d.e+]+)", total.inner_text()).group(1))  # type: ignore[union-attr]
    assert norm == pytest.approx(w1_grad_norm(), rel=1e-3)
    total.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "backward-steps-sum.png"))

    # Back, first, and the buttons; Esc closes the stepper and nothing stays lit.
    page.keyboard.press(",")
    at(len(steps) - 2)
    page.keyboard.press("Home")
    at(0)
    expect(page.locator("[data-testid=step-back]")).to_be_disabled()
    page.click("[data-testid=step-last]")
    at(len(steps) - 1)
    expect(page.locator("[data-testid=step-forward]")).to_be_disabled()
    page.click("[data-testid=step-first]")
    at(0)
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=step-panel]")).to_have_count(0)
    expect(view.locator(".ag-node.current")).to_have_count(0)
    expect(page.locator(".op-node.stepping")).to_have_count(0)
    assert console.errors == []  # KaTeX's script, styles and fonts all loaded under the CSP


def test_steps_are_recorded_only_when_asked(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    page.click("[data-testid=backward-toggle]")
    page.click("[data-testid=step-record]")  # off
    ed.run()
    expect(page.locator("[data-testid=step-count]")).to_contain_text("Steps not recorded")
    expect(page.locator("[data-testid=step-forward]")).to_be_disabled()
    page.click("[data-testid=step-record]")
    ed.run()
    expect(page.locator("[data-testid=step-count]")).to_contain_text("steps: press")
    assert console.errors == []


def test_a_step_of_an_op_without_a_rule_says_so(page, console: Console) -> None:
    """The chapter's second derivative: backward of g.sum() runs through the autograd nodes the
    grad node's create_graph recorded, and no local rule is stated for grad."""
    ed = Editor(page)
    ed.open_example("second_derivative")
    ed.wait_valid()
    page.click("[data-testid=backward-toggle]")
    ed.run()
    expect(page.locator("[data-testid=step-count]")).to_contain_text("steps: press")
    page.keyboard.press(".")
    expect(page.locator("[data-testid=step-title]")).to_contain_text("SumBackward0")
    expect(page.locator("[data-testid=rule-input] .katex")).to_have_count(1)  # sum states its rule
    page.keyboard.press(".")
    expect(page.locator("[data-testid=step-title]")).to_contain_text("(grad)")
    expect(page.locator("[data-testid=step-no-rule]")).to_contain_text("no local backward rule is stated")
    expect(page.locator("[data-testid=step-rule]")).to_have_count(0)
    assert console.errors == []

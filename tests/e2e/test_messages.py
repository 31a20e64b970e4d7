"""What the page says, and for how long (issue 14, part 5): building a graph leaves the console
clean (validation answers a half-built graph with a 200, valid false); a run's failure is said once
and goes when it is over; an error is said in one place each; the inspector's line of PyTorch
follows the node's attributes; a float32 element reads in the digits it has."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import torch
from playwright.sync_api import expect

from .conftest import Console
from .editor import Editor

pytestmark = pytest.mark.e2e


class Requests:
    """Every answer the page got that is not a success, and every validation's body."""

    def __init__(self, page: Any) -> None:
        self.failed: list[str] = []
        self.validations: list[dict[str, Any]] = []
        page.on("response", self.on_response)

    def on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")
        elif response.url.endswith("/api/validate"):
            self.validations.append(json.loads(response.body()))


def test_building_a_graph_from_scratch_logs_nothing(page, console: Console) -> None:
    requests = Requests(page)
    ed = Editor(page)
    canvas = page.locator("[data-testid=canvas]").bounding_box()
    left, top = canvas["x"], canvas["y"]
    # x = (-3, 2, 5), w a parameter, y = x * w, loss = y.sum(): every step on the way is half built
    ed.add("input", "x", left + 120, top + 120)
    ed.set_attr("init", "values")
    ed.set_attr("values", "[-3, 2, 5]")
    ed.add("parameter", "w", left + 120, top + 320)
    ed.set_attr("shape", "4")  # a mistake: [3] * [4] do not broadcast
    ed.add("mul", "y", left + 420, top + 200)
    expect(page.locator("[data-testid=validation-status]")).to_contain_text("2 inputs to connect")
    ed.connect("x", "y", "input")
    ed.connect("w", "y", "other")
    expect(page.locator("[data-testid=error-y]")).to_contain_text("broadcast")
    expect(page.locator("[data-testid=validation-status]")).to_have_text("1 error: see the marked nodes")
    ed.select("w")
    ed.set_attr("shape", "3")
    ed.add("sum", "loss", left + 680, top + 200)
    ed.connect("y", "loss", "input")
    ed.wait_valid()
    ed.run()  # the loss is guessed: the one scalar that requires grad
    expect(page.locator("[data-testid=run-status]")).to_contain_text("ran loss.backward()")
    ed.select("w")
    page.uncheck("[data-testid=attr-requires_grad]")  # nothing to differentiate now
    ed.wait_valid()
    ed.run()
    expect(page.locator("[data-testid=run-status]")).to_contain_text("forward only")
    expect(page.locator("[data-testid=run-status]")).to_contain_text("choose a loss to see gradients")

    assert console.errors == []
    assert console.graph_errors == [], "no request failed while the graph was half built"
    assert requests.failed == []
    found = [v for v in requests.validations if not v["valid"]]
    assert found, "the half-built graphs were validated, and found to have errors"
    assert {e["code"] for v in found for e in v["errors"]} >= {"missing_input", "shape"}


def test_a_failed_run_is_said_once_and_goes_when_it_is_over(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.select("x1")
    page.keyboard.press("Delete")  # x2 and x3 lose an input: the run is refused
    expect(page.locator("[data-testid=validation-status]")).to_contain_text("to connect")
    page.click("[data-testid=run-button]")
    failed = page.locator("[data-testid=run-failed]")
    expect(failed).to_have_text("The run failed: the marked nodes say why.")
    expect(page.locator("[data-testid=notice].error")).to_have_count(0)  # not said twice
    page.keyboard.press("Control+z")  # the error is fixed: what the line reported is over
    expect(failed).to_have_count(0)
    ed.wait_valid()

    ed.select("x1")
    page.keyboard.press("Delete")
    page.click("[data-testid=run-button]")
    expect(failed).to_be_visible()
    ed.open_example("tanh_net")  # another example, run fine: nothing of the old failure is left
    ed.wait_valid()
    expect(failed).to_have_count(0)
    ed.run()
    expect(failed).to_have_count(0)
    expect(page.locator("[data-testid=statusbar] .bad")).to_have_count(0)
    assert console.errors == []


def test_an_error_is_said_in_one_place_each(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.select("x")
    ed.set_attr("shape", "4")
    on_node = page.locator("[data-testid=error-x1]")
    expect(on_node).to_contain_text("must equal other's first dimension (4)")
    expect(on_node).not_to_contain_text("Transpose one of them")  # the node: what is wrong
    ed.select("x1")
    listed = page.locator(".insp-errors")
    expect(listed).to_contain_text("Transpose one of them or change a shape")  # the inspector: all of it
    expect(listed.locator(".op-error")).to_have_count(1)
    expect(page.locator("[data-testid=statusbar]")).not_to_contain_text("dimension")  # the bar: a count

    ed.select("x")
    ed.set_attr("shape", "5")
    ed.set_attr("init", "values")
    page.fill("[data-testid=attr-values]", "[1, 2, 3, 4, 5, 6]")
    page.press("[data-testid=attr-values]", "Tab")  # a text area commits on blur
    # the server's error, on the attribute shape
    field = page.locator("[data-testid=attr-shape]").locator("xpath=..").locator(".field-error")
    expect(field).to_contain_text("values hold 6 numbers")  # under its field
    expect(page.locator(".insp-errors")).to_have_count(0)  # and not listed again above
    expect(page.locator("[data-testid=error-x]")).to_contain_text("shape:")  # the node: marked, in short
    assert console.errors == []


def test_the_line_of_pytorch_follows_the_attributes(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("x3_second_derivative")
    ed.wait_valid()
    ed.select("g2")
    line = page.locator("[data-testid=node-torch]")
    expect(line).to_have_text("torch.autograd.grad(g, x, retain_graph=True)[0]")
    ed.select("g")
    expect(line).to_have_text("torch.autograd.grad(y, x, retain_graph=True, create_graph=True)[0]")
    page.uncheck("[data-testid=attr-create_graph]")
    expect(line).to_have_text("torch.autograd.grad(y, x, retain_graph=True)[0]")

    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.add_by_keyboard("relu")
    expect(line).to_have_text("F.relu(input)")  # not wired yet: the port's name
    ed.connect("x3", "relu", "input")
    expect(line).to_have_text("F.relu(x3)")
    page.check("[data-testid=attr-inplace]")
    expect(line).to_have_text("F.relu(x3, inplace=True)")  # was "F.relu(input, inplace=False)" whatever it was
    ed.select("x1")
    expect(line).to_have_text("torch.matmul(w1, x)")
    assert console.errors == []


def test_a_float32_element_reads_in_the_digits_it_has(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example("dag_4_1")
    ed.wait_valid()
    ed.run()
    ed.select("q")
    scalar = page.locator("[data-testid=value-view-scalar]").inner_text()
    ed.select("x1")
    page.locator("[data-testid=value-view]").get_by_role("button", name="Table").click()
    title = page.locator("[data-testid=value-view] td[data-index='0']").get_attribute("title") or ""
    element = title.split("= ")[1]
    for text in (scalar, element):
        digits = re.sub(r"^-|e.*$|\.", "", text).lstrip("0")
        assert 1 <= len(digits) <= 9, text  # as decoded, 4.070731163024902: 16 digits for a float32
    # and exact: the float32 PyTorch computes, read back from those digits (the 4.1 DAG's draws)
    torch.manual_seed(0)
    w1, w2, x = torch.rand(5, 5), torch.rand(5, 5), torch.empty(5).normal_()
    x1 = w1 @ x
    q = (w1 @ (x1 + (x + w2 @ x1))).norm()
    assert torch.tensor(float(element), dtype=torch.float32) == x1[0]
    assert torch.tensor(float(scalar), dtype=torch.float32) == q
    assert console.errors == []

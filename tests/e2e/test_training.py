"""Training in the page, end to end against the real server's WebSocket: the 2-D MLP learns (its
loss curve falls, the decision boundary forms over the points), Stop leaves the graph with the
trained values and the explorer views on that step's state; the digits Net's first-layer kernels
change from their initial noise as it trains; closing the panel or the page ends the training on
the server."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from .conftest import Console, editor_page
from .editor import Editor

pytestmark = pytest.mark.e2e

MLP = "train_moons_mlp"  # the gallery's 2-D classifier on two moons, trainable as it loads
NET = "train_digits_net"  # the course's Net on scikit-learn's 8x8 digits
SINE = "train_sine_mlp"  # a 1-D regression: an MLP fitting a noisy sine
VIEW = "window.__dagrad.train.getState().view"
RUN = "window.__dagrad.results.getState().run"
EXAMPLES = Path(__file__).resolve().parents[2] / "backend" / "dagrad" / "examples"


def open_train_panel(ed: Editor) -> None:
    ed.tool("train-button")
    ed.page.wait_for_selector("[data-testid=train-panel]")


def set_field(page: Any, name: str, value: str) -> None:
    page.fill(f"[data-testid=train-{name}]", value)


def params(doc: dict[str, Any]) -> dict[str, Any]:
    """Each parameter's values as the document holds them (None: drawn by its init)."""
    return {n["id"]: n["attrs"].get("values") for n in doc["nodes"] if n["op"] == "parameter"}


def train_mlp(page: Any, console: Console, screenshots: Path, size: str) -> None:
    ed = Editor(page)
    ed.open_example(MLP)
    ed.wait_valid()
    before = params(ed.doc())
    open_train_panel(ed)
    set_field(page, "steps", "2000")  # more than it needs: Stop ends it
    page.click("[data-testid=train-play]")

    # The loss streams in and falls; the boundary is drawn over the data points.
    page.wait_for_function(f"() => {VIEW}.points.length >= 150", timeout=60_000)
    page.wait_for_function(f"() => {VIEW}.boundary !== null")
    expect(page.locator("[data-testid=train-boundary]")).to_have_attribute("data-has-boundary", "yes")
    expect(page.locator("[data-testid=train-status]")).to_contain_text("Training: step")
    page.screenshot(path=str(screenshots / f"training-mlp-{size}.png"))

    page.click("[data-testid=train-stop]")
    page.wait_for_function(f"() => {VIEW}.phase === 'done'")
    view = page.evaluate(f"() => {VIEW}")
    assert view["reason"] == "stopped"
    losses = [p["loss"] for p in view["points"]]
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.7 * first, (first, last)
    expect(page.locator("[data-testid=train-status]")).to_contain_text(f"Stopped at step {view['step']}")

    # The graph holds the trained values (what Run, the explorer and a saved file see).
    after = params(ed.doc())
    assert after.keys() == before.keys()
    assert all(v is None for v in before.values())  # drawn at random by their init
    assert all(isinstance(v, list) for v in after.values())  # now the trained values
    # ...and the page ran it: the values shown are the trained graph's.
    page.wait_for_function(
        "() => window.__dagrad.results.getState().run !== null && !window.__dagrad.results.getState().running"
    )
    assert not console.errors, console.errors


def test_the_2d_mlp_learns_live_and_stops_with_trained_values(page, console: Console, screenshots: Path) -> None:
    train_mlp(page, console, screenshots, "1440")


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1024, 768)])
def test_training_at_projector_and_tablet_sizes(
    browser: Any, server: str, console: Console, screenshots: Path, width: int, height: int
) -> None:
    with editor_page(browser, server, console, viewport={"width": width, "height": height}) as pg:
        train_mlp(pg, console, screenshots, f"{width}x{height}")
        # The curve's ticks and legend are readable from the back of a room.
        sizes = pg.locator("[data-testid=loss-chart] .u-legend").evaluate("e => getComputedStyle(e).fontSize")
        assert float(sizes.removesuffix("px")) >= 14


def test_after_stopping_the_explorer_shows_that_step(page, console: Console) -> None:
    ed = Editor(page)
    ed.open_example(MLP)
    ed.wait_valid()
    open_train_panel(ed)
    set_field(page, "steps", "3")
    page.click("[data-testid=train-step]")  # one step, then paused
    page.wait_for_function(f"() => {VIEW}.phase === 'paused' && {VIEW}.step === 1")
    page.click("[data-testid=train-stop]")
    page.wait_for_function(f"() => {VIEW}.phase === 'done'")
    assert page.evaluate(f"() => {VIEW}")["step"] == 1
    # The backward graph of the stopped step's state.
    page.click("[data-testid=train-close]")
    page.click("[data-testid=backward-toggle]")
    ed.run()
    expect(page.locator("[data-testid=backward-view] .ag-node").first).to_be_visible()
    # ...and its backward, stepped through as autograd ran it, from the loss to the leaves
    count = page.locator("[data-testid=step-count]")
    expect(count).to_have_text(re.compile(r"^\d+ steps: press › or \.$"))
    total = int(count.inner_text().split()[0])
    page.keyboard.press(".")
    expect(count).to_have_text(f"Step 1 of {total}")
    expect(page.locator("[data-testid=step-title]")).to_contain_text("loss")
    page.click("[data-testid=step-forward]")
    expect(count).to_have_text(f"Step 2 of {total}")
    page.keyboard.press("End")
    expect(count).to_have_text(f"Step {total} of {total}")
    expect(page.locator("[data-testid=step-title]")).to_contain_text("AccumulateGrad")
    page.keyboard.press("Escape")
    # Reset brings the initial values back.
    open_train_panel(ed)
    trained = params(ed.doc())
    page.click("[data-testid=train-reset]")
    assert params(ed.doc()) != trained
    assert not console.errors, console.errors


def test_the_digits_net_kernels_change_as_it_trains(page, console: Console, screenshots: Path) -> None:
    ed = Editor(page)
    ed.open_example(NET)
    ed.wait_valid()
    ed.run()
    preview = "[data-testid=preview-conv1_weight] canvas"
    page.wait_for_selector(preview)
    before = page.locator(preview).first.evaluate("c => c.toDataURL()")
    initial = np.frombuffer(base64.b64decode(page.evaluate(f"() => {RUN}.nodes.conv1_weight.value.data.b64")), "<f4")
    open_train_panel(ed)
    set_field(page, "steps", "100")
    set_field(page, "snapshot_every", "25")
    page.click("[data-testid=train-play]")
    page.wait_for_function(f"() => {VIEW}.phase === 'done'", timeout=120_000)
    view = page.evaluate(f"() => {VIEW}")
    assert view["reason"] == "finished"
    page.wait_for_function(f"() => {RUN} !== null && !window.__dagrad.results.getState().running")
    after = page.locator(preview).first.evaluate("c => c.toDataURL()")
    assert after != before
    # Learned, not nudged: after 100 steps (SGD, lr 0.05, momentum 0.9) the kernels differ from
    # their initial noise by most of their size (0.75 of it), their neighbouring taps have become
    # correlated (0.06 -> 0.23: edges and blobs, not noise), and the Net reads the held-out
    # digits (0.89 of them).
    trained = np.asarray(next(n for n in ed.doc()["nodes"] if n["id"] == "conv1_weight")["attrs"]["values"], "<f4")
    assert trained.shape == (32, 1, 3, 3)
    k0, k1 = initial.reshape(32, 3, 3), trained.reshape(32, 3, 3)
    assert np.linalg.norm(k1 - k0) / np.linalg.norm(k0) > 0.5
    assert neighbours(k1) > neighbours(k0) + 0.1
    assert view["points"][-1]["test_accuracy"] > 0.8
    # The panel sets them side by side: as drawn (the step-0 snapshot) and at step 100, and says
    # by how much they moved, as computed here from the page's own before and after.
    kernels = page.locator("[data-testid=train-kernels]")
    expect(kernels).to_have_attribute("data-kernels", "conv1_weight")
    expect(page.locator("[data-testid=train-kernels-now]")).to_have_attribute("data-step", "100")
    moved = round(100 * np.linalg.norm(k1 - k0) / np.linalg.norm(k0))
    expect(page.locator("[data-testid=train-kernels-change]")).to_contain_text(f"Changed by {moved}% of their size")
    kernels.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "training-digits-net.png"))
    assert not console.errors, console.errors


def neighbours(kernels: np.ndarray) -> float:
    """The correlation of horizontally and vertically neighbouring taps over all kernels."""
    a = np.concatenate([kernels[:, :, :-1].ravel(), kernels[:, :-1, :].ravel()])
    b = np.concatenate([kernels[:, :, 1:].ravel(), kernels[:, 1:, :].ravel()])
    return float(np.corrcoef(a, b)[0, 1])


def test_the_sine_regression_bends_its_curve_onto_the_points(page, console: Console, screenshots: Path) -> None:
    ed = Editor(page)
    ed.open_example(SINE)
    ed.wait_valid()
    open_train_panel(ed)
    page.click("[data-testid=train-play]")
    page.wait_for_function(f"() => {VIEW}.phase === 'done'", timeout=120_000)
    view = page.evaluate(f"() => {VIEW}")
    assert view["reason"] == "finished"
    assert view["task"] == "regression"
    expect(page.locator("[data-testid=train-boundary]")).to_have_attribute("data-has-curve", "yes")
    # The curve the page drew is the model's on [-pi, pi]: close to sin(x) once trained
    x, y = np.asarray(view["curve"]["x"]), np.asarray(view["curve"]["y"])
    assert len(x) == 100
    assert x.min() < -3
    assert x.max() > 3
    assert np.abs(y - np.sin(x)).max() < 0.2
    assert view["points"][-1]["test_loss"] < 0.02
    # A regression has no accuracy: its legend says loss and test loss only
    legend = page.locator("[data-testid=loss-chart] .u-legend .u-series:visible")
    expect(legend).to_have_count(2)
    assert legend.all_inner_texts() == ["loss", "test loss"]
    page.screenshot(path=str(screenshots / "training-sine.png"))
    assert not console.errors, console.errors


def _one_step_training_answers(server: str) -> int:
    """The status of POST /api/train for the moons MLP, one step, from this machine's address:
    the same client as the page, which may run one training at a time (Settings)."""
    doc = json.loads((EXAMPLES / f"{MLP}.json").read_text())
    doc["train"]["steps"] = 1
    return httpx.post(f"{server}/api/train", json=doc, timeout=60).status_code


def _wait_released(server: str) -> None:
    """The server let the page's training go: this client may train again (within 10 s)."""
    deadline = time.monotonic() + 10
    while (status := _one_step_training_answers(server)) == 429 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == 200, status


def test_closing_the_panel_or_the_page_ends_the_training(browser: Any, server: str, console: Console) -> None:
    with editor_page(browser, server, console, viewport={"width": 1280, "height": 720}) as pg:
        ed = Editor(pg)
        ed.open_example(MLP)
        ed.wait_valid()
        open_train_panel(ed)
        set_field(pg, "steps", "10000")
        pg.click("[data-testid=train-play]")
        pg.wait_for_function(f"() => {VIEW}.points.length >= 20", timeout=60_000)
        assert _one_step_training_answers(server) == 429  # this client's one training is the page's
        pg.click("[data-testid=train-close]")  # leaving the panel
        _wait_released(server)

        open_train_panel(ed)
        pg.click("[data-testid=train-play]")
        pg.wait_for_function(f"() => {VIEW}.points.length >= 20", timeout=60_000)
        assert _one_step_training_answers(server) == 429
    # The page closed (editor_page closes its context): its training ends too.
    _wait_released(server)

"""End-to-end fixtures: a dagrad server on a free port and a headless Chromium page.

The browser is Debian's Chromium (Playwright cannot download its own here); the tests
are skipped when it is missing, or when the editor has not been built into backend/dagrad/static/.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagrad.api.app import static_dir
from servers import dagrad_server

from .browser import CHROMIUM, CHROMIUM_ARGS

try:  # a machine without Playwright (a GPU box running only the CUDA tests) skips this folder
    import playwright  # noqa: F401
except ImportError:
    collect_ignore_glob = ["test_*.py"]

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    elif not (static_dir() / "index.html").exists():  # where the served app looks for it
        reason = "the editor is not built: cd frontend && npm ci && npm run build"
    for item in items:
        if "e2e" in item.keywords and reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests' screenshots go: the README's, docs/screenshots/, only when
    DAGRAD_SCREENSHOTS=1 asks to renew them; else a temporary folder, so that a test run leaves
    the checkout as it was."""
    if os.environ.get("DAGRAD_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The app under uvicorn on a free port (tests/servers.py)."""
    with dagrad_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Console:
    """Console errors and page errors seen by a page.

    A 422 from /api/evaluate is the server's answer to running a graph with errors (the page
    shows them on the nodes); Chromium still logs it as a failed resource, so it is kept apart.
    /api/validate answers such a graph with a 200 (valid false): building one logs nothing.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.graph_errors: list[str] = []

    def on_message(self, msg: Any) -> None:
        if msg.type != "error":
            return
        if "status of 422" in msg.text:
            self.graph_errors.append(msg.text)
        else:
            self.errors.append(msg.text)

    def on_error(self, err: Any) -> None:
        self.errors.append(str(err))


@pytest.fixture
def console() -> Console:
    return Console()


@contextlib.contextmanager
def editor_page(browser: Any, server: str, console: Console, **context: Any) -> Iterator[Any]:
    """A fresh page (empty storage) on the editor, once the op registry has loaded, in a browser
    context made with `context` (its viewport, touch, ...), closed afterwards."""
    ctx = browser.new_context(**context)
    pg = ctx.new_page()
    pg.on("console", console.on_message)
    pg.on("pageerror", console.on_error)
    pg.goto(server)
    pg.wait_for_selector("[data-testid=palette-search]")
    try:
        yield pg
    finally:
        ctx.close()


@pytest.fixture
def page(browser: Any, server: str, console: Console) -> Iterator[Any]:
    """A fresh page on the editor at 1440×900."""
    with editor_page(browser, server, console, viewport={"width": 1440, "height": 900}, accept_downloads=True) as pg:
        yield pg

"""Who gets in, in Chromium: the token form, a ?token= link, the Content-Security-Policy, and /docs
with the network off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import dagrad_server

from .conftest import Console

pytestmark = pytest.mark.e2e

TOKEN = "class-Zq3xV8"
TEACHER = "teacher-Lm52Kd"
# Listens in every page before its own scripts run (Playwright's init scripts are exempt from the policy).
CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="session")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server with a class and a teacher token, under the default allowed hosts (the tests' own
    DAGRAD_ALLOWED_HOSTS left out), its log kept: its URL and the log's path."""
    log = tmp_path_factory.mktemp("token-server") / "log.txt"
    tokens = {"DAGRAD_TOKEN": TOKEN, "DAGRAD_TEACHER_TOKEN": TEACHER}
    with dagrad_server(log=log, drop=("DAGRAD_ALLOWED_HOSTS",), **tokens) as url:
        yield url, log


@pytest.fixture
def fresh_page(browser: Any, console: Console) -> Iterator[Any]:
    """A page in a context of its own (no cookies), watched for console errors and CSP violations."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(CSP_PROBE)
    pg = context.new_page()
    pg.on("console", console.on_message)
    pg.on("pageerror", console.on_error)
    yield pg
    context.close()


def _not_401(console: Console) -> list[str]:
    """Console errors other than the refused requests' own (Chromium logs every 401)."""
    return [e for e in console.errors if "status of 401" not in e]


def test_the_form_asks_for_the_token_then_the_editor_loads(
    token_server: tuple[str, Path], fresh_page: Any, console: Console
) -> None:
    url, _ = token_server
    pg = fresh_page
    pg.goto(url)
    pg.wait_for_selector("[data-testid=token-form]")
    assert pg.locator("[data-testid=palette-search]").count() == 0
    pg.fill("[data-testid=token-input]", "not-the-token")
    pg.click("[data-testid=token-submit]")
    pg.wait_for_selector("[data-testid=token-wrong]")
    assert "not this server's token" in pg.inner_text("[data-testid=token-wrong]")
    pg.fill("[data-testid=token-input]", TOKEN)
    pg.click("[data-testid=token-submit]")
    pg.wait_for_selector("[data-testid=palette-search]")
    (cookie,) = [c for c in pg.context.cookies() if c["name"] == "dagrad_token"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert pg.evaluate("document.cookie") == "", "a script of the page must not read the token"
    pg.reload()  # asked once: the cookie lets it in from now on
    pg.wait_for_selector("[data-testid=palette-search]")
    assert pg.evaluate("window.__csp") == []
    assert _not_401(console) == []


def test_a_token_link_sets_the_cookie_and_leaves_the_address_bar(
    token_server: tuple[str, Path], fresh_page: Any, console: Console
) -> None:
    url, log = token_server
    pg = fresh_page
    pg.goto(f"{url}/?keep=1&token={TOKEN}#g=abc")  # other parameters and the fragment stay
    pg.wait_for_selector("[data-testid=palette-search]")
    assert pg.url == f"{url}/?keep=1#g=abc"
    assert [c["name"] for c in pg.context.cookies()] == ["dagrad_token"]
    assert pg.evaluate("history.length") == 2  # about:blank, then the page: the link itself is not kept
    assert TOKEN not in log.read_text(), "the server's access log must not keep the token"
    assert pg.evaluate("window.__csp") == []
    assert _not_401(console) == []


def test_the_policy_lets_the_page_open_a_websocket_to_its_own_server(page: Any, server: str) -> None:
    """'self' in connect-src covers ws: to the same host and port (CSP Level 3, as Chromium reads it):
    the handshake is made (and refused by the server, there being no such route), not blocked."""
    page.evaluate(CSP_PROBE)
    outcome = page.evaluate(
        """() => new Promise((done) => {
            const ws = new WebSocket(location.origin.replace("http", "ws") + "/api/no-such-socket");
            ws.onerror = () => done("error"); ws.onopen = () => done("open");
        })"""
    )
    assert outcome == "error"
    assert page.evaluate("window.__csp") == []
    blocked = page.evaluate(
        """() => new Promise((done) => {
            try { new WebSocket("ws://example.invalid/"); } catch (e) { done("threw"); }
            setTimeout(() => done("tried"), 500);
        })"""
    )
    assert blocked in ("threw", "tried")
    assert page.evaluate("window.__csp") == ["connect-src ws://example.invalid/"]


def test_docs_render_with_the_network_off(server: str, fresh_page: Any, console: Console) -> None:
    pg = fresh_page
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    pg.route("**/*", only_local)
    pg.goto(f"{server}/docs")
    pg.wait_for_selector('.opblock-summary-path[data-path="/api/evaluate"]', timeout=20_000)
    assert pg.locator(".opblock").count() >= 8
    assert outside == []
    assert pg.evaluate("window.__csp") == []
    assert console.errors == []

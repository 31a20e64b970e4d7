"""Security headers on every answer (api/security_headers.py), pages without inline script or
style, and /docs served from the package, not a CDN (api/docs_ui.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dagrad.api.app import create_app, static_dir
from dagrad.api.docs_ui import TEMPLATES
from dagrad.settings import Settings

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: Any) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, response.status_code, name)
    csp = dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["img-src"] == "'self' data: blob:"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"


def test_pages_and_api_answers_carry_the_headers(client: TestClient, dag: dict[str, Any]) -> None:
    answers = [
        client.get("/"),
        client.get("/docs"),
        client.get("/docs/init.js"),
        client.get("/docs/vendor/swagger-ui.css"),
        client.get("/openapi.json"),
        client.get("/api/ops"),
        client.get("/api/health"),
        client.post("/api/validate", json=dag),
    ]
    assets = sorted((static_dir() / "assets").glob("*.js"))
    if assets:
        answers.append(client.get(f"/assets/{assets[0].name}"))
    for response in answers:
        assert response.status_code == 200, response.request.url
        assert_secured(response)


def test_errors_and_404s_carry_the_headers(client: TestClient) -> None:
    answers = {
        404: [client.get("/no-such-page"), client.get("/api/examples/nope"), client.get("/assets/nope.js")],
        422: [client.post("/api/evaluate", json={"nodes": [{"id": "a", "op": "nope"}]})],
        400: [
            client.post("/api/validate", content=b"{", headers={"content-type": "application/json"}),
            client.get("/api/ops", headers={"host": "evil.example"}),
        ],
        405: [client.put("/api/ops")],
        413: [client.post("/api/validate", content=b"x", headers={"content-length": str(2**40)})],
    }
    for status, responses in answers.items():
        for response in responses:
            assert response.status_code == status, response.request.url
            assert_secured(response)


def test_refusals_for_want_of_a_token_carry_the_headers() -> None:
    with TestClient(create_app(Settings(token="t", max_concurrent_runs=1, spare_workers=0))) as c:
        refused = c.get("/api/ops")
        assert refused.status_code == 401
        assert_secured(refused)
        link = c.get("/?token=t", follow_redirects=False)
        assert link.status_code == 303
        assert_secured(link)


def test_a_500_carries_the_headers() -> None:
    """A bug's answer comes from Starlette's outermost layer: the headers are added outside it."""
    app = create_app(Settings(max_concurrent_runs=1, spare_workers=0))

    def boom() -> None:
        raise RuntimeError("on purpose")

    app.add_api_route("/api/test/boom", boom)
    response = TestClient(app, raise_server_exceptions=False).get("/api/test/boom")
    assert response.status_code == 500
    assert response.json()["errors"][0]["code"] == "runtime"
    assert_secured(response)


def test_an_answer_that_sets_its_own_header_keeps_it() -> None:
    app = create_app(Settings(max_concurrent_runs=1, spare_workers=0))

    def framed() -> Any:
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse("x", headers={"x-frame-options": "SAMEORIGIN"})

    app.add_api_route("/api/test/framed", framed)
    response = TestClient(app).get("/api/test/framed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["referrer-policy"] == "no-referrer"


class _Page(HTMLParser):
    """The URLs a page loads, and whatever the policy would block inline."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        if "style" in a:
            self.inline.append(f"style= on <{tag}>")
        self.inline += [f"{k} on <{tag}>" for k in a if k.startswith("on")]
        for key in ("src", "href"):
            url = a.get(key)
            if url and not url.startswith(("data:", "#")) and (tag != "a"):
                self.urls.append(url)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.mark.skipif(not (static_dir() / "index.html").exists(), reason="the editor is not built")
def test_the_built_editor_has_no_inline_script_or_style() -> None:
    page = _parse((static_dir() / "index.html").read_text())
    assert page.inline == []
    assert page.urls, "the page loads its script and styles from files"


@pytest.mark.parametrize("name", ["docs.html", "no_frontend.html"])
def test_the_servers_own_pages_have_no_inline_script_or_style(name: str) -> None:
    assert _parse((TEMPLATES / name).read_text()).inline == []


def test_the_page_without_an_editor_is_secured(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("dagrad.api.app.static_dir", lambda: tmp_path)  # as in a checkout not yet built
    with TestClient(create_app(Settings(max_concurrent_runs=1, spare_workers=0))) as c:
        response = c.get("/")
    assert "has not been built" in response.text
    assert_secured(response)


def test_docs_load_only_from_this_server(client: TestClient) -> None:
    html = client.get("/docs").text
    page = _parse(html)
    assert page.inline == []
    assert len(page.urls) >= 3  # the stylesheet, Swagger UI's bundle, its start-up script
    assert not re.search(r"https?://", html), "no absolute URL: nothing from a CDN"
    openapi = re.search(r'data-openapi-url="([^"]+)"', html)
    assert openapi is not None
    for url in [*page.urls, openapi.group(1)]:
        assert re.match(r"/[^/]", url), f"{url} is not a path on this server"
        assert client.get(url).status_code == 200, url
    assert client.get("/redoc").status_code == 404  # ReDoc injects <style>: not served

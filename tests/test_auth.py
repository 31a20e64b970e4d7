"""Who gets in (api/auth.py): the class token, the teacher token, the Host header, WebSockets, and
what GET /api/health tells."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
import torch
from fastapi import WebSocket
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from conftest import run_on_own_loop
from dagrad import __version__
from dagrad.api import auth
from dagrad.api.app import create_app
from dagrad.settings import Settings

TOKEN = "class-7fQ2"
TEACHER = "teacher-9Kx4"
OPEN = {"/", "/api/health", "/api/auth", "/api/auth/token", "/api/auth/teacher", "/docs", "/openapi.json"}


async def _whoami(websocket: WebSocket) -> None:
    """A test-only WebSocket route: says whether it carries the teacher token."""
    await websocket.accept()
    await websocket.send_json({"teacher": auth.is_teacher(websocket, websocket.app.state.settings)})
    await websocket.close()


def _app(**settings: Any) -> Any:
    app = create_app(Settings(**{"max_concurrent_runs": 1, "spare_workers": 0, **settings}))
    app.add_api_websocket_route("/api/test/whoami", _whoami)
    app.add_api_websocket_route("/docs/test/whoami", _whoami)  # under a path open to HTTP, not to WebSockets
    return app


@pytest.fixture(scope="module")
def guarded() -> Iterator[TestClient]:
    """A server with a class and a teacher token (one worker, started once for the module)."""
    with TestClient(_app(token=TOKEN, teacher_token=TEACHER)) as c:
        yield c


@pytest.fixture
def anon(guarded: TestClient) -> TestClient:
    """The guarded server, with no cookie kept from another test."""
    guarded.cookies.clear()
    return guarded


def assert_refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """A refusal in the documented error format (docs/graph-format.md, Errors)."""
    assert response.status_code == status, (response.request.url, response.text)
    body = response.json()
    assert set(body) == {"detail", "errors", "nodes"}
    assert body["nodes"] == {}
    (error,) = body["errors"]
    assert error == {
        "node": None,
        "port": None,
        "attribute": None,
        "code": code,
        "message": error["message"],
        "autograd": None,
    }
    assert error["message"]
    return body


def _routes(app: Any) -> list[tuple[type, str, set[str]]]:
    """Every route of the app as (its class, its whole path, its methods), path parameters filled
    in (/api/examples/{name} -> /api/examples/name). FastAPI 0.16x keeps each included router as one
    route: iter_route_contexts walks into them."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    found = []
    for c in contexts(app.routes) if contexts else app.routes:
        route = getattr(c, "original_route", c)
        found.append((type(route), c.path.replace("{", "").replace("}", ""), set(c.methods or ()) - {"HEAD"}))
    return found


def _calls(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every API route but the open ones."""
    return [
        (method, path)
        for kind, path, methods in _routes(app)
        if issubclass(kind, APIRoute) and path.startswith("/api") and path not in OPEN
        for method in sorted(methods)
    ]


def test_every_api_route_refuses_a_request_without_the_token(anon: TestClient) -> None:
    calls = _calls(anon.app)
    assert {("GET", "/api/ops"), ("POST", "/api/evaluate"), ("POST", "/api/validate"), ("GET", "/api/examples")} <= set(
        calls
    )
    for method, path in [*calls, ("GET", "/no-such-page"), ("GET", "/assets/../api/ops")]:
        response = anon.request(method, path, json={})
        body = assert_refused(response, 401, "unauthorized")
        assert body["detail"] == "a token is required"
        assert "?token=" in body["errors"][0]["message"]
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_every_websocket_route_refuses_one_without_the_token(anon: TestClient) -> None:
    paths = [path for kind, path, _ in _routes(anon.app) if issubclass(kind, APIWebSocketRoute)]
    assert {"/api/test/whoami", "/docs/test/whoami"} <= set(paths)
    for path in paths:
        with pytest.raises(WebSocketDenialResponse) as denied, anon.websocket_connect(path):
            pass
        assert_refused(denied.value, 401, "unauthorized")


def test_a_websocket_is_closed_with_4401_where_the_server_cannot_answer_its_handshake() -> None:
    """Without ASGI's websocket.http.response extension, the refusal is a close before accept."""
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("reached the app")

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/api/x", "headers": [(b"host", b"localhost")], "query_string": b""}
    run_on_own_loop(lambda: auth.Gate(app, Settings(token=TOKEN))(scope, receive, send))
    assert [(m["type"], m["code"]) for m in sent] == [("websocket.close", 4401)]


def test_the_open_paths_need_no_token(anon: TestClient) -> None:
    for path in [
        "/",
        "/api/health",
        "/api/auth",
        "/docs",
        "/openapi.json",
        "/docs/init.js",
        "/docs/vendor/swagger-ui.css",
    ]:
        assert anon.get(path).status_code == 200, path
    assert anon.get("/assets/no-such-file.js").status_code == 404  # reached the files, not refused


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ({"cookies": {"dagrad_token": TOKEN}}, 200),
        ({"headers": {"authorization": f"Bearer {TOKEN}"}}, 200),
        ({"headers": {"authorization": f"bearer {TOKEN}"}}, 200),
        ({"cookies": {"dagrad_teacher": TEACHER}}, 200),  # the teacher's token passes too
        ({"headers": {"authorization": f"Bearer {TEACHER}"}}, 200),
        ({"cookies": {"dagrad_token": "wrong"}}, 401),
        ({"headers": {"authorization": "Bearer wrong"}}, 401),
        ({"headers": {"authorization": f"Basic {TOKEN}"}}, 401),  # not a Bearer: as if none were sent
        ({"cookies": {"dagrad_token": TOKEN[:-1]}}, 401),
        ({"cookies": {"dagrad_token": TOKEN + "x"}}, 401),
        ({"cookies": {"dagrad_teacher": TOKEN}}, 401),  # the class token does not make a teacher
    ],
)
def test_the_token_by_cookie_or_bearer(anon: TestClient, dag: dict[str, Any], how: dict[str, Any], status: int) -> None:
    anon.cookies.update(how.get("cookies", {}))
    response = anon.post("/api/validate", json=dag, headers=how.get("headers"))
    if status == 401:
        detail = assert_refused(response, 401, "unauthorized")["detail"]
        assert detail == ("a token is required" if "Basic" in str(how) else "wrong token")
    else:
        assert response.status_code == 200, response.text


def test_tokens_are_compared_in_constant_time(anon: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = auth.secrets.compare_digest
    monkeypatch.setattr(auth.secrets, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    assert anon.get("/api/ops", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert (TOKEN.encode(), TOKEN.encode()) in compared


def test_a_token_link_sets_the_cookie_and_redirects_to_the_same_url_without_it(anon: TestClient) -> None:
    response = anon.get(f"/?room=r1&token={TOKEN}&b=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?room=r1&b=2"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"dagrad_token={TOKEN};")
    assert {"HttpOnly", "Path=/", "SameSite=strict"} <= {p.strip() for p in cookie.split(";")}
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    assert anon.get("/api/ops").status_code == 200  # the client kept it
    anon.cookies.clear()

    response = anon.get(f"/?token={TEACHER}", follow_redirects=False)
    assert response.headers["location"] == "/"
    assert response.headers["set-cookie"].startswith(f"dagrad_teacher={TEACHER};")
    anon.cookies.clear()

    wrong = anon.get("/?token=wrong", follow_redirects=False)  # out of the address bar all the same
    assert (wrong.status_code, wrong.headers["location"], "set-cookie" in wrong.headers) == (303, "/", False)
    assert anon.get("/api/ops").status_code == 401


def test_a_token_link_never_redirects_to_another_site(anon: TestClient) -> None:
    response = anon.get(f"http://localhost//evil.example/x?token={TOKEN}", follow_redirects=False)
    assert response.headers["location"] == "/evil.example/x"


def test_a_token_link_without_tokens_is_an_ordinary_request(client: TestClient) -> None:
    response = client.get("/?token=anything", follow_redirects=False)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_the_page_form_posts_the_class_token(anon: TestClient) -> None:
    assert_refused(anon.post("/api/auth/token", json={"token": "wrong"}), 401, "unauthorized")
    assert anon.get("/api/ops").status_code == 401
    right = anon.post("/api/auth/token", json={"token": TOKEN})
    assert right.status_code == 204
    assert {"HttpOnly", "Path=/", "SameSite=strict"} <= {p.strip() for p in right.headers["set-cookie"].split(";")}
    assert anon.get("/api/ops").status_code == 200
    cleared = anon.delete("/api/auth/token")
    assert cleared.status_code == 204
    assert anon.get("/api/ops").status_code == 401


def test_teacher_login_and_logout(anon: TestClient) -> None:
    assert anon.get("/api/auth").json() == {"token_required": True, "teacher": False, "teacher_configured": True}
    body = assert_refused(anon.post("/api/auth/teacher", json={"token": TOKEN}), 401, "unauthorized")
    assert body["detail"] == "wrong teacher token"
    right = anon.post("/api/auth/teacher", json={"token": TEACHER})
    assert right.status_code == 204
    cookie = right.headers["set-cookie"]
    assert cookie.startswith(f"dagrad_teacher={TEACHER};")
    assert {"HttpOnly", "Path=/", "SameSite=strict"} <= {p.strip() for p in cookie.split(";")}
    assert "Max-Age" not in cookie  # for the browser session only
    assert anon.get("/api/auth").json()["teacher"] is True
    assert anon.get("/api/ops").status_code == 200
    assert anon.delete("/api/auth/teacher").status_code == 204
    assert anon.get("/api/auth").json()["teacher"] is False
    assert anon.get("/api/auth", headers={"authorization": f"Bearer {TEACHER}"}).json()["teacher"] is True


def test_without_tokens_the_login_routes_say_so_and_everything_is_open(client: TestClient) -> None:
    assert client.get("/api/auth").json() == {"token_required": False, "teacher": False, "teacher_configured": False}
    body = assert_refused(client.post("/api/auth/teacher", json={"token": "x"}), 404, "not_found")
    assert "DAGRAD_TEACHER_TOKEN" in body["errors"][0]["message"]
    body = assert_refused(client.post("/api/auth/token", json={"token": "x"}), 404, "not_found")
    assert "DAGRAD_TOKEN" in body["errors"][0]["message"]
    assert client.get("/api/ops").status_code == 200
    with TestClient(_app()).websocket_connect("/api/test/whoami") as ws:
        assert ws.receive_json() == {"teacher": False}


def test_is_teacher_on_a_websocket(anon: TestClient) -> None:
    anon.cookies.set("dagrad_token", TOKEN)
    with anon.websocket_connect("/api/test/whoami") as ws:
        assert ws.receive_json() == {"teacher": False}
    with anon.websocket_connect("/api/test/whoami", headers={"authorization": f"Bearer {TEACHER}"}) as ws:
        assert ws.receive_json() == {"teacher": True}
    anon.cookies.clear()
    anon.cookies.set("dagrad_teacher", TEACHER)
    with anon.websocket_connect("/api/test/whoami") as ws:
        assert ws.receive_json() == {"teacher": True}


def test_a_websocket_from_a_page_of_another_site_is_refused(anon: TestClient) -> None:
    anon.cookies.set("dagrad_token", TOKEN)
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        anon.websocket_connect("/api/test/whoami", headers={"origin": "http://evil.example"}),
    ):
        pass
    assert_refused(denied.value, 403, "bad_host")
    with pytest.raises(WebSocketDenialResponse), anon.websocket_connect("/api/test/whoami", headers={"origin": "null"}):
        pass
    with anon.websocket_connect("/api/test/whoami", headers={"origin": "http://localhost:5173"}) as ws:
        assert ws.receive_json() == {"teacher": False}


def test_the_health_check_tells_versions_only_to_the_teacher(anon: TestClient) -> None:
    health = anon.get("/api/health").json()
    assert (health["version"], health["torch"], health["python"]) == (None, None, None)
    assert health["devices"] == ["cpu", "cuda"] if health["cuda_devices"] else ["cpu"]
    assert {"token", "teacher_token", "allowed_hosts"}.isdisjoint(health["limits"])
    assert health["limits"]["max_nodes"] > 0
    teacher = anon.get("/api/health", headers={"authorization": f"Bearer {TEACHER}"}).json()
    assert teacher["version"] == __version__
    assert teacher["torch"] == torch.__version__
    assert teacher["python"] == platform.python_version()


def test_no_dump_of_the_settings_holds_a_token() -> None:
    """GET /api/health's limits, its schema, and the settings each worker process gets on its command line."""
    settings = Settings(token=TOKEN, teacher_token=TEACHER, allowed_hosts="school.example")
    dumped = settings.model_dump_json()
    assert TOKEN not in dumped
    assert TEACHER not in dumped
    assert "school.example" not in dumped
    assert {"token", "teacher_token", "allowed_hosts"}.isdisjoint(Settings.model_json_schema()["properties"])


def test_an_empty_token_means_none() -> None:
    assert Settings(token="", teacher_token=" ").token is None


# Host header


def test_the_default_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGRAD_ALLOWED_HOSTS", raising=False)
    assert Settings().allowed_hosts == ["localhost", "127.0.0.1", "::1"]
    monkeypatch.setenv("DAGRAD_ALLOWED_HOSTS", " dagrad.School.example, 10.0.0.5 ,[::1]")
    assert Settings().allowed_hosts == ["dagrad.school.example", "10.0.0.5", "::1"]
    monkeypatch.setenv("DAGRAD_ALLOWED_HOSTS", "")
    assert Settings().allowed_hosts == ["localhost", "127.0.0.1", "::1"]


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("localhost:8000", "localhost,127.0.0.1,::1", True),
        ("127.0.0.1:45123", "localhost,127.0.0.1,::1", True),
        ("[::1]:8000", "localhost,127.0.0.1,::1", True),
        ("LOCALHOST.", "localhost", True),
        ("evil.example", "localhost,127.0.0.1,::1", False),
        ("localhost.evil.example", "localhost", False),
        ("127.0.0.1.nip.io", "127.0.0.1", False),
        ("", "localhost", False),
        ("dagrad.school.example", "dagrad.school.example,10.0.0.5", True),
        ("10.0.0.5:8000", "dagrad.school.example,10.0.0.5", True),
        ("anything.example:1", "*", True),
        ("a.school.example", "*.school.example", True),
        ("school.example", "*.school.example", False),
        ("evilschool.example", "*.school.example", False),
    ],
)
def test_host_matching(host: str, allowed: str, ok: bool) -> None:
    assert auth.host_allowed(auth.host_of(host), Settings(allowed_hosts=allowed).allowed_hosts) is ok


def test_a_host_not_allowed_gets_a_400_everywhere(client: TestClient) -> None:
    for path in ["/api/ops", "/api/health", "/", "/docs"]:
        body = assert_refused(client.get(path, headers={"host": "rebound.evil.example"}), 400, "bad_host")
        assert "DAGRAD_ALLOWED_HOSTS" in body["errors"][0]["message"]
    assert client.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200


def test_a_websocket_to_a_host_not_allowed_is_refused() -> None:
    c = TestClient(_app(allowed_hosts="localhost"))  # the test client's own host, testserver, is not
    with pytest.raises(WebSocketDenialResponse) as denied, c.websocket_connect("/api/test/whoami"):
        pass
    assert_refused(denied.value, 400, "bad_host")
    with c.websocket_connect("ws://localhost/api/test/whoami") as ws:
        assert ws.receive_json() == {"teacher": False}


def test_any_host_with_a_star() -> None:
    c = TestClient(_app(allowed_hosts="*"))
    assert c.get("/api/health", headers={"host": "whatever.example"}).status_code == 200

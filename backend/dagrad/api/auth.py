"""Who gets in: the Host header, the class token and the teacher token, checked before routing.

- Host: a request (or WebSocket) naming a host not in settings.allowed_hosts gets a 400. A page on
  another site whose name an attacker re-points at 127.0.0.1 (DNS rebinding) sends its own name.
  A WebSocket whose Origin names such a host is refused too: browsers let any page open one.
- The class token (settings.token): when set, everything but the page, its assets, /docs, the
  OpenAPI schema, GET /api/health and /api/auth* needs it, as the cookie dagrad_token, as
  `Authorization: Bearer <token>`, or the teacher's token in either place; else a 401 (a WebSocket
  is refused before it opens). The page learns it from a form (POST /api/auth/token) or from a
  link `/?token=...`, which sets the cookie and redirects to the same URL without the token.
- The teacher token (settings.teacher_token): is_teacher() says whether a request carries it;
  POST /api/auth/teacher keeps it in the cookie dagrad_teacher.

Gate is plain ASGI, not BaseHTTPMiddleware, so that it sees WebSocket handshakes as well.
Without tokens nothing asks for one (a ?token= link is an ordinary request); the Host check is
always on.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from dagrad.api.deps import SettingsDep
from dagrad.api.error_handlers import STATUSES, documented, error_body, error_response
from dagrad.errors import ErrorCode, GraphError
from dagrad.results import ErrorResponse
from dagrad.settings import Settings

CLASS_COOKIE = "dagrad_token"
TEACHER_COOKIE = "dagrad_teacher"
# A student enters the token once a month, not once per browser session; the teacher's cookie
# lasts the browser session only (a projector's browser is shared).
CLASS_COOKIE_SECONDS = 30 * 24 * 3600
# What must load to ask for the token, or that answers whether one is needed.
OPEN_PATHS = frozenset(
    {"/", "/api/health", "/api/auth", "/api/auth/token", "/api/auth/teacher", "/docs", "/openapi.json"}
)
OPEN_PREFIXES = ("/assets/", "/docs/")
# Any route can answer these, before routing: the app's OpenAPI `responses`.
DOCUMENTED: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "A Host header this server does not answer to (DAGRAD_ALLOWED_HOSTS), or malformed JSON.",
    },
    401: {"model": ErrorResponse, "description": STATUSES[401]},
}
HOW_TO_SEND = (
    "open the link your teacher gave (it ends in ?token=...), enter the token on the page, or send the header "
    "'Authorization: Bearer <token>'"
)


def _same(given: str | None, token: str | None) -> bool:
    """Constant-time, so that a wrong guess says nothing about how much of it was right."""
    if not given or not token:
        return False
    return secrets.compare_digest(given.encode(), token.encode())


def bearer(conn: HTTPConnection) -> str | None:
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def is_teacher(conn: HTTPConnection, settings: Settings) -> bool:
    """Whether a request or WebSocket carries the teacher token (cookie or Bearer); False when the
    server has none."""
    token = settings.teacher_token
    return _same(conn.cookies.get(TEACHER_COOKIE), token) or _same(bearer(conn), token)


def has_class_token(conn: HTTPConnection, settings: Settings) -> bool:
    """Whether it may pass the class gate: no class token is set, or it carries it (or the teacher's)."""
    if settings.token is None:
        return True
    given = (conn.cookies.get(CLASS_COOKIE), bearer(conn))
    return any(_same(g, settings.token) for g in given) or is_teacher(conn, settings)


def host_of(header: str) -> str:
    """'Example.org:8000' -> 'example.org', '[::1]:8000' -> '::1'."""
    host = header.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _host_of_origin(origin: str) -> str:
    try:
        return urlsplit(origin).hostname or ""
    except ValueError:  # not a URL ('null', from a sandboxed frame)
        return ""


def host_allowed(host: str, allowed: list[str]) -> bool:
    return bool(host) and any(a in ("*", host) or (a.startswith("*.") and host.endswith(a[1:])) for a in allowed)


def _is_open(scope: Scope) -> bool:
    path: str = scope["path"]
    if scope["type"] != "http":
        return False
    return path in OPEN_PATHS or (path.startswith(OPEN_PREFIXES) and ".." not in path.split("/"))


async def refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: ErrorCode, detail: str, message: str
) -> None:
    """An answer in the documented error format; a WebSocket gets it as its handshake's HTTP answer
    where the server can send one (uvicorn can), else is closed with 4000 + status before it opens."""
    headers = {"www-authenticate": 'Bearer realm="dagrad"'} if status == 401 else None
    response = error_response(status, error_body(detail, [GraphError(code=code, message=message)]), headers)
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 4000 + status, "reason": detail})
            return
    await response(scope, receive, send)  # Starlette sends websocket.http.response.* on a WebSocket


def set_token_cookie(response: Response, conn: HTTPConnection, name: str, token: str) -> None:
    response.set_cookie(
        name,
        token,
        max_age=CLASS_COOKIE_SECONDS if name == CLASS_COOKIE else None,
        path="/",
        httponly=True,  # no script of the page (nor one injected into it) can read it
        samesite="strict",  # another site's links and forms do not carry it
        secure=conn.url.scheme == "https",
    )


class Gate:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        s = self.settings
        host = host_of(conn.headers.get("host", ""))
        if not host_allowed(host, s.allowed_hosts):
            message = (
                f"this server does not answer to the host {host!r}. If that is its name, start it with "
                f"DAGRAD_ALLOWED_HOSTS={host or 'NAME'} (comma-separated names; '*' for any)."
            )
            await refuse(scope, receive, send, 400, "bad_host", "host not allowed", message)
            return
        origin = conn.headers.get("origin")
        if scope["type"] == "websocket" and origin and not host_allowed(_host_of_origin(origin), s.allowed_hosts):
            message = (
                f"a page from {origin!r} may not open a WebSocket here, only pages of this server's allowed hosts."
            )
            await refuse(scope, receive, send, 403, "bad_host", "origin not allowed", message)
            return
        linked = scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and "token" in conn.query_params
        if linked and (s.token or s.teacher_token):
            await self.link(conn, scope, receive, send)
            return
        if not _is_open(scope) and not has_class_token(conn, s):
            sent = bool(conn.cookies.get(CLASS_COOKIE) or conn.cookies.get(TEACHER_COOKIE) or bearer(conn))
            detail = "wrong token" if sent else "a token is required"
            why = "the token sent is not this server's" if sent else "this dagrad server needs its class token"
            await refuse(scope, receive, send, 401, "unauthorized", detail, f"{why}: {HOW_TO_SEND}.")
            return
        await self.app(scope, receive, send)

    async def link(self, conn: HTTPConnection, scope: Scope, receive: Receive, send: Send) -> None:
        """A ?token= link: the cookie set when it is right, then the same URL without the token, so
        that it does not stay in the address bar, the history, or a Referer (wrong: no cookie, and
        the page asks)."""
        token = conn.query_params["token"]
        rest = urlencode([(k, v) for k, v in parse_qsl(scope["query_string"].decode("latin-1"), True) if k != "token"])
        # uvicorn's access log reads the query from this same scope once the answer is sent.
        scope["query_string"] = rest.encode("latin-1")
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else quote(scope["path"])
        path = "/" + path.lstrip("/")  # never '//host/...': a redirect to another site
        response = RedirectResponse(path + (f"?{rest}" if rest else ""), status_code=303)
        response.headers["cache-control"] = "no-store"
        if _same(token, self.settings.token):
            set_token_cookie(response, conn, CLASS_COOKIE, token)
        elif _same(token, self.settings.teacher_token):
            set_token_cookie(response, conn, TEACHER_COOKIE, token)
        await response(scope, receive, send)


router = APIRouter(prefix="/api/auth", tags=["auth"])


class AuthStatus(BaseModel):
    token_required: bool = Field(description="The server has a class token: the page must ask for it.")
    teacher: bool = Field(description="This request carries the teacher token.")
    teacher_configured: bool = Field(description="The server has a teacher token (presenter controls).")


class TokenBody(BaseModel):
    token: str = Field(max_length=4096)


@router.get("", operation_id="auth-get")
async def auth_status(request: Request, settings: SettingsDep) -> AuthStatus:
    """What the page must ask for; open without any token."""
    return AuthStatus(
        token_required=settings.token is not None,
        teacher=is_teacher(request, settings),
        teacher_configured=settings.teacher_token is not None,
    )


def _login(request: Request, body: TokenBody, token: str | None, cookie: str, what: str, env: str) -> Response:
    if token is None:
        raise HTTPException(404, f"this server has no {what}; start it with {env}=... to use one")
    if not _same(body.token, token):
        message = f"that is not this server's {what}; check it and try again."
        return error_response(401, error_body(f"wrong {what}", [GraphError(code="unauthorized", message=message)]))
    response = Response(status_code=204)
    set_token_cookie(response, request, cookie, body.token)
    return response


def _logout(cookie: str) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(cookie, path="/", httponly=True, samesite="strict")
    return response


@router.post("/token", status_code=204, operation_id="auth-token-login", responses=documented(401, 404, 422))
async def token_login(body: TokenBody, request: Request, settings: SettingsDep) -> Response:
    """Keep the class token in this browser (cookie dagrad_token, HttpOnly): the page's form."""
    return _login(request, body, settings.token, CLASS_COOKIE, "class token", "DAGRAD_TOKEN")


@router.delete("/token", status_code=204, operation_id="auth-token-logout")
async def token_logout() -> Response:
    return _logout(CLASS_COOKIE)


@router.post("/teacher", status_code=204, operation_id="auth-teacher-login", responses=documented(401, 404, 422))
async def teacher_login(body: TokenBody, request: Request, settings: SettingsDep) -> Response:
    """Keep the teacher token in this browser (cookie dagrad_teacher, HttpOnly, for the browser session).
    404 when the server has no teacher token."""
    return _login(request, body, settings.teacher_token, TEACHER_COOKIE, "teacher token", "DAGRAD_TEACHER_TOKEN")


@router.delete("/teacher", status_code=204, operation_id="auth-teacher-logout")
async def teacher_logout() -> Response:
    return _logout(TEACHER_COOKIE)

"""The FastAPI application: API routers, error handlers, limits, the worker pool and the editor's files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp

from dagrad import __version__
from dagrad.api import auth, docs_ui, error_handlers
from dagrad.api.body_limit import BodyLimitMiddleware
from dagrad.api.rooms import Rooms
from dagrad.api.routes import examples, graphs, health, ops, rooms, train
from dagrad.api.security_headers import SecurityHeaders
from dagrad.api.strict_query import strict_query
from dagrad.api.training import TrainingRuns
from dagrad.api.workers import WorkerPool
from dagrad.settings import Settings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def static_dir() -> Path:
    """The built editor: the package's own static/ (frontend/ builds into it; the wheel ships it)."""
    return Path(__file__).resolve().parent.parent / "static"


class App(FastAPI):
    """FastAPI, with who gets in (api/auth.py) and the security headers outside Starlette's own
    outermost layer: a 500 carries the headers too, and a request that does not get in reaches nothing."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(auth.Gate(super().build_middleware_stack(), self.state.settings))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    pool = WorkerPool(settings)
    room_list = Rooms(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.started()  # the workers import PyTorch and warm up before the first request
        yield
        await room_list.shutdown()
        pool.close()

    app = App(
        lifespan=lifespan,
        title="dagrad",
        version=__version__,
        description="Compile a graph of PyTorch ops, run forward and backward, see every value and gradient.",
        # Any route can answer these (a body over the limit is refused before routing, so are a Host not
        # allowed and a missing token; a bug is a 500), each as an ErrorResponse; routes add their own
        # (error_handlers.STATUSES).
        responses={**error_handlers.documented(413, 500), **auth.DOCUMENTED},
        dependencies=[Depends(strict_query)],
        docs_url=None,  # docs_ui's, offline and without inline script
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.rooms = room_list
    app.state.training = TrainingRuns(settings)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    error_handlers.install(app)
    docs_ui.install(app)
    app.include_router(auth.router)
    for router in (ops.router, graphs.router, examples.router, health.router, rooms.router, train.router):
        app.include_router(router)

    static = static_dir()
    assets = static / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        built = static / "index.html"
        if built.is_file():
            return HTMLResponse(built.read_text())
        return TEMPLATES.TemplateResponse(request, "no_frontend.html", {"version": __version__})

    return app

"""GET /docs: Swagger UI from files the package's dependencies ship, not from a CDN.

FastAPI's own /docs loads Swagger UI from cdn.jsdelivr.net (a classroom may have no internet) and
starts it with an inline script, which the Content-Security-Policy forbids. The files come from
fastapi-offline (Swagger UI 5, which reads OpenAPI 3.1: swagger-ui-bundle's 4.15 cannot), the page
from templates/docs.html and its start-up from templates/docs-init.js. There is no /redoc: ReDoc
injects <style> elements, which the policy forbids too.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PAGES = Jinja2Templates(directory=str(TEMPLATES))
VENDOR = Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    app.mount("/docs/vendor", StaticFiles(directory=VENDOR), name="docs-vendor")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        context = {"root": root, "title": f"{app.title} API", "openapi_url": f"{root}{app.openapi_url}"}
        return PAGES.TemplateResponse(request, "docs.html", context)

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return FileResponse(TEMPLATES / "docs-init.js", media_type="text/javascript")

"""The ASGI app for uvicorn: `uvicorn dagrad.api.main:app`."""

from dagrad.api.app import create_app

app = create_app()

"""The REST API (FastAPI): routers by resource, one app factory."""

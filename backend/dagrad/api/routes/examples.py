"""GET /api/examples and /api/examples/{name}: the course chapter's examples."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from dagrad import examples
from dagrad.api.error_handlers import documented
from dagrad.graph_format import Graph

router = APIRouter(prefix="/api", tags=["examples"])


class ExampleSummary(BaseModel):
    name: str
    title: str | None
    description: str | None
    section: str | None


@router.get("/examples", operation_id="examples-list")
def list_examples() -> list[ExampleSummary]:
    return [
        ExampleSummary(name=name, title=g.title, description=g.description, section=g.meta.get("section"))
        for name, g in examples.load_all().items()
    ]


# 422 is FastAPI's for any route with a parameter (a str name cannot fail it); here in our format.
@router.get("/examples/{name}", operation_id="examples-get", responses=documented(404, 422))
def get_example(name: str) -> Graph:
    graph = examples.load(name)
    if graph is None:
        raise HTTPException(
            404, f"no example named {name!r}; GET /api/examples lists them: {', '.join(examples.names())}"
        )
    return graph

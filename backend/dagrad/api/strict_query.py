"""Query parameters as the OpenAPI schema declares them, on every route.

FastAPI takes the last of a parameter given twice (?full=a&full=b) and reads max_elements=2.0 as
2: answers to requests the schema calls invalid. This refuses them as a 422 in the documented
format, reading each route's parameters from the app's own OpenAPI document, so a parameter added
to a route is covered without a word here.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.requests import HTTPConnection

_INTEGER = re.compile(r"[+-]?\d+")


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a parameter's schema allows ('integer', 'array', ...)."""
    kinds = {schema["type"]} if "type" in schema else set()
    for option in schema.get("anyOf", []):
        kinds |= _types(option)
    return kinds


async def strict_query(request: HTTPConnection) -> None:
    if not isinstance(request, Request):  # a WebSocket: its route reads what it takes in messages
        return
    route = request.scope.get("route")
    operation = request.app.openapi().get("paths", {}).get(getattr(route, "path", ""), {}).get(request.method.lower())
    if not operation:
        return
    declared = {p["name"]: _types(p.get("schema", {})) for p in operation.get("parameters", []) if p["in"] == "query"}
    given = request.query_params.multi_items()
    errors: list[tuple[str, Any, str]] = []  # name, what was given, what is wrong
    for name, kinds in declared.items():
        values = [v for k, v in given if k == name]
        if len(values) > 1 and "array" not in kinds:
            errors.append((name, values, f"is given {len(values)} times; give it once"))
        elif values and kinds & {"integer"} and not kinds & {"number", "string"} and not _INTEGER.fullmatch(values[0]):
            errors.append((name, values[0], f"must be a whole number written as one (like 65536), not {values[0]!r}"))
    if errors:
        raise RequestValidationError(
            [{"type": "query", "loc": ("query", name), "msg": msg, "input": value} for name, value, msg in errors]
        )

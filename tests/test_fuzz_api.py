"""Schemathesis against the app's own OpenAPI schema, in process (ASGI): every route, with requests
that fit the schema (positive) and requests that break it (negative, for the routes that take a
body). It fails on any 5xx, on a status the route's `responses` do not list, on a body that breaks
the schema of its status, and on a schema-breaking request answered 2xx.

Bounded and deterministic: at most MAX_EXAMPLES cases per route and mode, derandomized, no
deadline, under limits that keep every run small; about 25 s on a 2-core machine. Graphs drawn
from the schema alone rarely name a real op: test_fuzz_graphs.py draws them from the registry.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from dagrad.api.app import create_app
from dagrad.settings import Settings

pytestmark = pytest.mark.fuzz

# DAGRAD_FUZZ_SCALE=10 for a long run (bench/README.md gives one's figures).
MAX_EXAMPLES = 300 * int(os.environ.get("DAGRAD_FUZZ_SCALE", "1"))
# Every answer well within schemathesis's 10 s read timeout: a run stopped at 3 s, a queue given up at 2.
APP = create_app(
    Settings(
        max_tensor_elements=10**5,
        max_flops=1e8,
        max_run_seconds=3,
        queue_seconds=2,
        max_concurrent_runs=1,
        spare_workers=1,
        max_train_steps=50,  # a generated training ends within the read timeout too
        max_train_seconds=3,
    )
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _schema(mode: GenerationMode) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
    schema.config.generation.update(modes=[mode], max_examples=MAX_EXAMPLES, deterministic=True)
    # derandomize alone drew other cases when other tests ran first; a seed draws the same everywhere.
    schema.config.seed = 0
    return schema


positive = _schema(GenerationMode.POSITIVE)
# The GET routes take no body and no query: no request to them can break the schema.
negative = _schema(GenerationMode.NEGATIVE).include(method="POST")


@positive.parametrize()
def test_requests_that_fit_the_schema(case: Case) -> None:
    case.call_and_validate(checks=CHECKS)


@negative.parametrize()
def test_requests_that_break_the_schema(case: Case) -> None:
    case.call_and_validate(checks=CHECKS)

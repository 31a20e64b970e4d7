"""Whether the C kernel (dagrad._moments) must be there: `make test` says so, so that a broken
build fails CI instead of quietly testing only the fallback."""

from __future__ import annotations

import os

import pytest

from dagrad import payload


def require_native() -> None:
    """Skip the calling test without the C kernel, or fail where DAGRAD_REQUIRE_NATIVE=1."""
    if payload.native():
        return
    if os.environ.get("DAGRAD_REQUIRE_NATIVE") == "1":
        pytest.fail("dagrad._moments was not built (setup.py), and DAGRAD_REQUIRE_NATIVE=1 asks for it")
    pytest.skip("dagrad._moments was not built: no C compiler at install")

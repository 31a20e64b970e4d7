"""What `dagrad serve` says when it listens beyond this machine (cli.exposure_warning)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dagrad.cli import exposure_warning, short_token_warning
from dagrad.settings import Settings

TOKEN = "class-7fQ2"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "dagrad.school.example"])
def test_serve_warns_loudly_when_it_listens_beyond_this_machine_without_a_token(host: str) -> None:
    warning = exposure_warning(host, 8000, Settings())
    assert warning is not None
    assert "WARNING" in warning
    assert "Anyone who can reach this port" in warning
    assert "DAGRAD_TOKEN" in warning
    assert "DAGRAD_ALLOWED_HOSTS" in warning
    assert len(warning.splitlines()) >= 5


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_serve_says_nothing_on_loopback(host: str) -> None:
    assert exposure_warning(host, 8000, Settings()) is None


def test_serve_with_a_token_only_reminds_of_the_allowed_hosts() -> None:
    reminder = exposure_warning("0.0.0.0", 8000, Settings(token=TOKEN, allowed_hosts="localhost"))
    assert reminder is not None
    assert "WARNING" not in reminder
    assert "DAGRAD_ALLOWED_HOSTS" in reminder
    assert exposure_warning("0.0.0.0", 8000, Settings(token=TOKEN, allowed_hosts="10.0.0.5")) is None


def test_serve_warns_of_a_token_short_enough_to_guess() -> None:
    strong = "Zq3v9-Lm0tXc2Rb8Yw1P"
    warning = short_token_warning("0.0.0.0", Settings(token=TOKEN, teacher_token=strong))
    assert warning is not None
    assert f"DAGRAD_TOKEN has {len(TOKEN)} characters" in warning
    assert "TEACHER" not in warning
    assert "token_urlsafe" in warning
    both = short_token_warning("10.0.0.5", Settings(token=TOKEN, teacher_token="teach"))
    assert both is not None
    assert "DAGRAD_TEACHER_TOKEN has 5 characters" in both
    assert short_token_warning("0.0.0.0", Settings(token=strong, teacher_token=strong + "x")) is None
    assert short_token_warning("0.0.0.0", Settings()) is None  # no token: exposure_warning says it louder
    assert short_token_warning("127.0.0.1", Settings(token=TOKEN)) is None


def test_dagrad_serve_prints_the_warning_on_stderr() -> None:
    """192.0.2.1 (TEST-NET-1) is no address of this machine: the server prints, then fails to bind."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGRAD_")} | {"PYTHONUNBUFFERED": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "dagrad", "serve", "--host", "192.0.2.1", "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "WARNING: dagrad is listening on 192.0.2.1:9 with no token" in run.stderr
    assert "WARNING" not in run.stdout

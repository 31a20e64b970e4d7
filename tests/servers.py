"""Servers the tests start as a user would: `dagrad`'s app under uvicorn on a free port, and a
Redis for presenter rooms shared by several of them (Debian's redis-server)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
REDIS = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dagrad_server(log: Path | None = None, drop: tuple[str, ...] = (), **env: str) -> Iterator[str]:
    """uvicorn on dagrad.api.main:app with these DAGRAD_* variables (and without those in `drop`);
    ready once /api/health answers, polled, no fixed sleep. `log` keeps its output."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in drop} | {"PYTHONUNBUFFERED": "1", **env}
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "dagrad.api.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=environ,
        stdout=out,
        stderr=subprocess.STDOUT if log is not None else subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                said = log.read_text() if log is not None else proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"the server exited: {said}")
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if log is not None:
            out.close()  # type: ignore[union-attr]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A Redis of its own on a free port, nothing saved; its URL."""
    assert REDIS is not None
    port = free_port()
    with tempfile.TemporaryDirectory() as where:
        proc = subprocess.Popen(
            [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", where],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)

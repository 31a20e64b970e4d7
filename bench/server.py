"""A dagrad server for the benchmark: uvicorn serving this checkout's app in a subprocess."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server() -> Iterator[str]:
    """uvicorn serving dagrad.api.main:app on a free loopback port, in a subprocess."""
    with uvicorn_process() as (url, _pid):
        yield url


@contextlib.contextmanager
def uvicorn_process(workers: int = 1, settings: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """The server's URL and the pid of the uvicorn process (which, with workers > 1, is the parent
    of the worker processes); `settings` as environment variables (DAGRAD_...)."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(BACKEND), os.environ.get("PYTHONPATH")])))
    env.update(settings or {})
    cmd = [sys.executable, "-m", "uvicorn", "dagrad.api.main:app", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"] + (["--workers", str(workers)] if workers > 1 else [])
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"uvicorn exited with {proc.returncode}:\n{log.read().decode(errors='replace')}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("uvicorn did not answer /api/health within 120 s")
                time.sleep(0.2)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

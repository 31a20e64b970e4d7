"""The wheel serves its editor: built from this checkout, installed into a brand-new virtualenv
(torch==2.13.0 first, the rest from the package index), then `dagrad serve` from that venv.

About a minute: the venv and its installs take most of it (more when the wheel build has to build
the editor, or pip's cache is cold). `pytest -m "not wheel"` leaves it out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers import free_port

ROOT = Path(__file__).resolve().parents[1]
EDITOR = ROOT / "backend" / "dagrad" / "static"
TORCH = "torch==2.13.0"  # first and on its own: a bare `torch` could pull a multi-GB CUDA build

pytestmark = pytest.mark.wheel


def clean_env() -> dict[str, str]:
    """This environment, less what would make the new venv see this checkout or this venv."""
    return {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }


def check(cmd: list[str], cwd: Path, timeout: float) -> None:
    out = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"


def git_status() -> str | None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True
    ).stdout


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A temporary folder for the wheel, the venv and the server's log, removed afterwards (pytest's
    tmp_path would keep three venvs with torch in them); the checkout is left as it was found:
    build/ and the egg-info that the wheel build writes there are removed unless they were there."""
    made = [p for p in (ROOT / "build", ROOT / "backend" / "dagrad.egg-info") if not p.exists()]
    before = git_status()
    with tempfile.TemporaryDirectory(prefix="dagrad-wheel-") as tmp:
        try:
            yield Path(tmp)
        finally:
            for p in made:
                shutil.rmtree(p, ignore_errors=True)
    assert git_status() == before, "building the wheel left files in the checkout that git sees"


def test_the_wheel_serves_the_built_editor(workdir: Path) -> None:
    if not (EDITOR / "index.html").is_file() and shutil.which("npm") is None:
        pytest.skip("the editor is not built and npm is missing: the wheel cannot be built with it")

    dist = workdir / "dist"
    check([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(dist)], ROOT, 900)
    (wheel,) = dist.glob("dagrad-*.whl")

    venv = workdir / "venv"
    check([sys.executable, "-m", "venv", str(venv)], workdir, 120)
    python = venv / "bin" / "python"
    check([str(python), "-m", "pip", "install", "-q", TORCH], workdir, 900)
    check([str(python), "-m", "pip", "install", "-q", str(wheel)], workdir, 900)
    where = subprocess.run(
        [str(python), "-c", "import dagrad; print(dagrad.__file__)"],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), f"dagrad is imported from {where}, not from the wheel"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(venv / "bin" / "dagrad"), "serve", "--port", str(port)],
            cwd=workdir,
            env={**clean_env(), "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"dagrad serve exited:\n{log.read_text()}"
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"dagrad serve did not answer /api/health:\n{log.read_text()}"
            time.sleep(0.1)

        index = httpx.get(f"{url}/", timeout=10)
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "has not been built" not in index.text, "the wheel serves the no-editor page: its editor is missing"
        # The very page Vite built in this checkout, which the wheel was built from.
        assert index.text == (EDITOR / "index.html").read_text()
        scripts = re.findall(r'<script[^>]*\bsrc="(/assets/index-[\w-]+\.js)"', index.text)
        assert scripts, f"the page references no /assets/index-*.js bundle:\n{index.text}"

        bundle = httpx.get(f"{url}{scripts[0]}", timeout=10)
        assert bundle.status_code == 200, f"{scripts[0]}: {bundle.status_code}"
        assert "javascript" in bundle.headers["content-type"]
        assert len(bundle.content) > 50_000, f"{scripts[0]} is only {len(bundle.content)} bytes"

        assert "dag_4_1" in httpx.get(f"{url}/api/examples", timeout=10).text  # the examples ship too
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

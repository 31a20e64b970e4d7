"""The build hook that puts the browser editor into the wheel; everything else is in pyproject.toml.

The editor is built by Vite from frontend/ into backend/dagrad/static/, and the wheel ships that
folder as package data. Building a wheel or an sdist from a checkout (`pip wheel .`, `pip install .`,
`python -m build`) first builds the editor when it is missing or older than frontend/'s sources
(`npm ci` when node_modules is missing or stale, then `npm run build`), and fails, saying how to build
it, when npm is missing: a wheel without its editor would serve the "not built" page. An editable
install (`pip install -e .`, what `make install` does) builds nothing: `make frontend` builds the editor
in place. A source tree without frontend/ (an unpacked sdist) must already hold the built editor.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
STATIC = ROOT / "backend" / "dagrad" / "static"
INDEX = STATIC / "index.html"
HOW = "build it with `cd frontend && npm ci && npm run build` (Node.js 20 with npm), then build the wheel again"


def _newest_source() -> float:
    """The newest modification time of frontend/'s own files (node_modules and dot folders aside)."""
    newest = 0.0
    for folder, dirs, files in os.walk(FRONTEND):
        dirs[:] = [d for d in dirs if d != "node_modules" and not d.startswith(".")]
        for name in files:
            newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


def ensure_editor() -> None:
    """Build the editor into backend/dagrad/static/ unless it is there and up to date."""
    if not (FRONTEND / "package.json").is_file():
        if INDEX.is_file():
            return  # an unpacked sdist: it ships the built editor
        raise SetupError(
            f"the browser editor is missing ({INDEX} does not exist) and there is no frontend/ to build it from"
        )
    if INDEX.is_file() and INDEX.stat().st_mtime >= _newest_source():
        return
    state = "older than frontend/'s sources" if INDEX.is_file() else "not built"
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError(f"the browser editor (backend/dagrad/static/) is {state} and npm is not installed: {HOW}")
    print(f"dagrad: the browser editor is {state}; building it (npm run build in frontend/)", flush=True)
    lock = FRONTEND / "node_modules" / ".package-lock.json"
    try:
        if not lock.is_file() or lock.stat().st_mtime < (FRONTEND / "package-lock.json").stat().st_mtime:
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, check=True)
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    except subprocess.CalledProcessError as e:
        raise SetupError(f"building the browser editor failed ({' '.join(map(str, e.cmd))}): {HOW}") from e
    if not INDEX.is_file():
        raise SetupError(f"`npm run build` did not write {INDEX}: check frontend/vite.config.ts's outDir")


class BuildPyWithEditor(build_py):
    def run(self) -> None:
        if not self.editable_mode:
            ensure_editor()
            # Vite names its bundles by hash: an earlier build's must not linger in build/lib.
            shutil.rmtree(Path(self.build_lib) / "dagrad", ignore_errors=True)
            self.__dict__.pop("data_files", None)  # recomputed with the editor's files
        super().run()


class SdistWithEditor(sdist):
    def run(self) -> None:
        ensure_editor()
        super().run()


setup(cmdclass={"build_py": BuildPyWithEditor, "sdist": SdistWithEditor})

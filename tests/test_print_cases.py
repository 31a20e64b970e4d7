"""The editor prints small tensors as PyTorch does (frontend/src/core/printTensor.ts); its tests
compare with frontend/src/core/printTensor.cases.json, which must be what this torch prints."""

from __future__ import annotations

import json
from pathlib import Path

from print_cases import cases

CASES = Path(__file__).resolve().parent.parent / "frontend" / "src" / "core" / "printTensor.cases.json"


def test_the_frontends_print_expectations_are_what_torch_prints() -> None:
    committed = json.loads(CASES.read_text())
    assert committed == cases(), "stale: run .venv/bin/python tests/print_cases.py > " + str(CASES)
    # The issue's own example, spelled out: x = (-3, 2, 5) prints as print(x) does.
    first = committed[0]
    assert (first["values"], first["torch"]) == ([-3.0, 2.0, 5.0], "[-3.,  2.,  5.]")

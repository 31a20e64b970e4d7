#!/usr/bin/env bash
# On a machine with a CUDA GPU: the CUDA tests, then the benchmarks on cuda.
#   bash bench/gpu_check.sh [run.py options, e.g. --json "$OUT/bench.json"]
# Uses .venv/bin/python when it runs here, else python3 (PYTHON=... overrides); the checkout's
# backend/ goes first on PYTHONPATH, so no editable install is needed. Without internet, wheels
# of missing packages (fastapi, uvicorn, pydantic-settings, ...) left in .whl/ are put on the path.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -c 'import torch' 2>/dev/null || PY=python3
export PYTHONPATH="$PWD/backend${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/dagrad-site .whl/*.whl &&
    export PYTHONPATH="$PYTHONPATH:/tmp/dagrad-site"
fi

echo "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi not available')"
"$PY" -c 'import sys, torch; print(f"python {sys.version.split()[0]} ({sys.executable}), torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")' || exit 1
"$PY" -c 'import dagrad.api.main, httpx, uvicorn, pytest' || { echo "missing packages for $PY: install the project ('.[dev]')"; exit 1; }

"$PY" -m pytest -m cuda -q tests/test_cuda.py
tests=$?
if [ "$tests" -eq 5 ]; then echo "pytest: no CUDA tests collected"; tests=0; fi

"$PY" bench/run.py --device cuda "$@"
bench=$?
echo "pytest -m cuda: exit $tests; bench/run.py --device cuda: exit $bench"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]

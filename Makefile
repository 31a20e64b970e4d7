# dagrad: `make run` installs everything and serves http://127.0.0.1:8000,
# `make test` installs everything and runs every check and test.
# torch==2.13.0 is installed first, on its own: a bare `torch` could pull a multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TORCH ?= torch==2.13.0

.PHONY: install frontend run test lint test-python test-frontend test-docker bench clean

# An editable install: it builds no editor (setup.py's hook is for wheels), `make frontend` does.
$(BIN)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The browser editor: built by Vite from frontend/ into backend/dagrad/static/, which a wheel ships.
frontend: install
	@if [ -f frontend/package.json ]; then \
	  cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	fi

run: install frontend
	$(BIN)/dagrad serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-frontend: frontend
	@if [ -f frontend/package.json ]; then cd frontend && npm run check && npm test; fi

test-python: install frontend
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-redis.sh
	$(BIN)/pytest

# The container: docker-compose.yml's stack, built from local base images, checked over HTTP and in
# Chromium (scripts/docker-test.sh). As root; another user, or DAGRAD_SKIP_DOCKER=1, skips it.
test-docker: install
	bash scripts/docker-test.sh

test: lint test-frontend test-python test-docker

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) backend/dagrad/static backend/dagrad.egg-info frontend/node_modules build dist

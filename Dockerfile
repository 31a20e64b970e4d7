# dagrad in a container: the editor built by Node, served by dagrad on a slim Python with the CPU
# build of PyTorch. `docker compose up` builds and runs it (docker-compose.yml); by hand:
#
#   docker build -t dagrad .
#   docker run --rm -p 8000:8000 dagrad            # http://localhost:8000
#
# Build arguments:
#   NODE_IMAGE, PYTHON_IMAGE   the base images (the official ones by default; scripts/docker-test.sh
#                              passes local ones built by docker/lib.sh)
#   TORCH_SPEC                 the torch requirement, installed first and on its own
#   TORCH_INDEX_URL            where it comes from: PyTorch's CPU index by default, so that no CUDA
#                              wheels come (docker-compose.gpu.yml picks a CUDA build)
#   TORCH_FIND_LINKS           an extra place pip looks for the torch wheel (a folder URL), or empty
#   DAGRAD_EXTRAS              optional dependency groups of pyproject.toml to install too (a,b), or empty

ARG NODE_IMAGE=node:20-slim
ARG PYTHON_IMAGE=python:3.11-slim

# --- the editor: Vite builds frontend/ into backend/dagrad/static/ ------------------------------------
FROM ${NODE_IMAGE} AS editor
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN mkdir -p ../backend/dagrad && npm run build

# --- dagrad --------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS dagrad
ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_FIND_LINKS=
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/dagrad/bin:$PATH

# torch first, on its own and from TORCH_INDEX_URL: a bare `torch` from PyPI is a multi-GB CUDA build.
RUN python3 -m venv /opt/dagrad \
 && pip install --index-url "$TORCH_INDEX_URL" ${TORCH_FIND_LINKS:+--find-links "$TORCH_FIND_LINKS"} "$TORCH_SPEC" \
 && python -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"

# dagrad's other dependencies (and DAGRAD_EXTRAS'), read from pyproject.toml: a layer that changes
# only when they do.
ARG DAGRAD_EXTRAS=
COPY pyproject.toml /src/
COPY docker/requirements.py /opt/dagrad/requirements.py
RUN python /opt/dagrad/requirements.py /src/pyproject.toml "$DAGRAD_EXTRAS" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# dagrad itself, with the editor built above (no frontend/ here, so setup.py builds nothing).
COPY README.md setup.py /src/
COPY backend /src/backend
COPY --from=editor /src/backend/dagrad/static /src/backend/dagrad/static
RUN pip install --no-deps /src \
 && rm -rf /src \
 && python -c "import dagrad, pathlib; assert (pathlib.Path(dagrad.__file__).parent / 'static' / 'index.html').is_file()"
COPY docker/healthcheck.py /opt/dagrad/healthcheck.py

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin dagrad
USER dagrad
WORKDIR /home/dagrad
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["python", "/opt/dagrad/healthcheck.py"]
CMD ["dagrad", "serve", "--host", "0.0.0.0", "--port", "8000"]

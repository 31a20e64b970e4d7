# shellcheck shell=bash
# Sourced by scripts/docker-test.sh and scripts/swarm-test.sh: Docker installed and its daemon
# running, the local base images, the local torch wheel, and the dagrad image built from them.
#
# Docker Hub is out of reach here, so the official base images (python:3.11-slim, node:20-slim,
# redis:7-alpine) are replaced by local ones: a Debian bookworm made by debootstrap, imported
# with `docker import`, plus Debian's python3, this machine's Node.js, and Debian's redis-server
# (and HAProxy, for scripts/swarm-test.sh on a kernel without IPVS).
# They are saved to $DAGRAD_DOCKER_CACHE (outside the checkout) and loaded from there when the
# daemon has lost them, so only the first run on a machine builds them.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DAGRAD_DOCKER_CACHE=${DAGRAD_DOCKER_CACHE:-/var/cache/dagrad-docker}
DAGRAD_DOCKERD_LOG=${DAGRAD_DOCKERD_LOG:-/var/log/dagrad-dockerd.log}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The torch wheel is served to the build on this loopback port; a fixed one, since the build
# argument that names it is part of Docker's cache key for the torch layer.
DAGRAD_WHEEL_PORT=${DAGRAD_WHEEL_PORT:-18765}
STARTED_DOCKERD=
WHEEL_SERVER=

say() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}

# Debian's CLI matches Debian's daemon; another docker on PATH (a newer CLI alone) comes after it.
docker() {
  if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else command docker "$@"; fi
}

# Why this machine cannot run the Docker checks (empty when it can): they need root, to install
# Docker and start its daemon, and to debootstrap the base images.
docker_skip_reason() {
  if [ "${DAGRAD_SKIP_DOCKER:-}" = 1 ]; then
    echo "DAGRAD_SKIP_DOCKER=1"
  elif [ "$(id -u)" -ne 0 ]; then
    echo "not root (Docker, its daemon and the local base images are installed as root; sudo $0 runs it)"
  fi
}

# "<what> SKIPPED: <why>" and exit 0 when docker_skip_reason has a reason.
exit_if_skipped() {
  local reason
  reason=$(docker_skip_reason)
  if [ -n "$reason" ]; then
    echo "$1 SKIPPED: $reason"
    exit 0
  fi
}

ensure_docker() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (apt)"
    local log=${DAGRAD_DOCKER_ARTIFACTS:-/tmp}/apt-docker.log
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1 || {
      tail -20 "$log" >&2
      die "apt-get install ${missing[*]} (whole log: $log)"
    }
  fi
  if docker info >/dev/null 2>&1; then return; fi
  say "starting dockerd (log: $DAGRAD_DOCKERD_LOG)"
  dockerd >>"$DAGRAD_DOCKERD_LOG" 2>&1 </dev/null &
  STARTED_DOCKERD=$!
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && return
    kill -0 "$STARTED_DOCKERD" 2>/dev/null || die "dockerd exited: tail $DAGRAD_DOCKERD_LOG"
    sleep 0.5
  done
  die "dockerd did not answer in 60 s: tail $DAGRAD_DOCKERD_LOG"
}

# Stop what ensure_docker and serve_torch_wheel started (dockerd only if this script started it,
# and not with DAGRAD_KEEP_DOCKERD=1).
stop_started() {
  if [ -n "$WHEEL_SERVER" ]; then
    kill "$WHEEL_SERVER" 2>/dev/null || true
    WHEEL_SERVER=
  fi
  if [ -n "$STARTED_DOCKERD" ] && [ "${DAGRAD_KEEP_DOCKERD:-}" != 1 ]; then
    say "stopping the dockerd this script started"
    kill "$STARTED_DOCKERD" 2>/dev/null || true
    for _ in $(seq 60); do
      kill -0 "$STARTED_DOCKERD" 2>/dev/null || break
      sleep 0.5
    done
    STARTED_DOCKERD=
  fi
}

# Sets PYTHON_IMAGE, NODE_IMAGE, REDIS_IMAGE and BALANCER_IMAGE (scripts/swarm-test.sh's, on a
# kernel without IPVS) to local images, building them when neither the
# daemon nor the cache has them. Their tag carries a hash of what they are made of.
local_base_images() {
  local node npm_dir node_version key debian tar
  node=$(command -v node) || die "Node.js is missing: the local node image copies this machine's"
  node=$(readlink -f "$node")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/package.json" ] || die "npm's folder not found beside $node"
  node_version=$("$node" --version)
  key=$( (cat "$REPO"/docker/local/*.Dockerfile "$REPO"/docker/swarm-balancer.cfg /usr/local/share/ca-certificates/*.crt 2>/dev/null
    echo "$node_version $DEBIAN_MIRROR v1") | sha256sum | cut -c1-12)
  debian=dagrad-local/debian:bookworm-$key
  PYTHON_IMAGE=dagrad-local/python:3.11-$key
  NODE_IMAGE=dagrad-local/node:${node_version#v}-$key
  REDIS_IMAGE=dagrad-local/redis:bookworm-$key
  BALANCER_IMAGE=dagrad-local/haproxy:bookworm-$key
  local images=("$debian" "$PYTHON_IMAGE" "$NODE_IMAGE" "$REDIS_IMAGE" "$BALANCER_IMAGE")
  tar=$DAGRAD_DOCKER_CACHE/base-images-$key.tar
  if docker image inspect "${images[@]}" >/dev/null 2>&1; then
    say "local base images: present ($key)"
    return
  fi
  if [ -f "$tar" ]; then
    say "local base images: loading $tar"
    docker load -q -i "$tar" >/dev/null
    docker image inspect "${images[@]}" >/dev/null 2>&1 && return
  fi
  say "local base images: building ($key; debootstrap bookworm from $DEBIAN_MIRROR)"
  mkdir -p "$DAGRAD_DOCKER_CACHE"
  rm -rf "$DAGRAD_DOCKER_CACHE"/build.* # an earlier build's, stopped half way
  local work
  work=$(mktemp -d "$DAGRAD_DOCKER_CACHE/build.XXXXXX")
  debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$DEBIAN_MIRROR" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    die "debootstrap"
  }
  # The certificate authorities this machine adds (a TLS proxy on the way to PyPI and npm), so
  # that the builds trust what the host trusts; pip and Node are pointed at the system's bundle.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$work/rootfs/usr/local/share/ca-certificates/"
    chroot "$work/rootfs" update-ca-certificates >/dev/null 2>&1
  fi
  rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/archives/*.deb
  local bundle=/etc/ssl/certs/ca-certificates.crt
  tar -C "$work/rootfs" -c . | docker import -c 'ENV LANG=C.UTF-8' -c "ENV SSL_CERT_FILE=$bundle" \
    -c "ENV PIP_CERT=$bundle" -c "ENV NODE_EXTRA_CA_CERTS=$bundle" -c 'CMD ["bash"]' - "$debian" >/dev/null
  rm -rf "$work/rootfs"
  mkdir -p "$work/empty" "$work/node"
  docker build -q -t "$PYTHON_IMAGE" --build-arg BASE="$debian" -f "$REPO/docker/local/python.Dockerfile" "$work/empty" >/dev/null
  cp "$node" "$work/node/node"
  cp -a "$npm_dir" "$work/node/npm"
  docker build -q -t "$NODE_IMAGE" --build-arg BASE="$debian" -f "$REPO/docker/local/node.Dockerfile" "$work/node" >/dev/null
  docker build -q -t "$REDIS_IMAGE" --build-arg BASE="$debian" -f "$REPO/docker/local/redis.Dockerfile" "$work/empty" >/dev/null
  mkdir -p "$work/haproxy"
  cp "$REPO/docker/swarm-balancer.cfg" "$work/haproxy/"
  docker build -q -t "$BALANCER_IMAGE" --build-arg BASE="$debian" -f "$REPO/docker/local/haproxy.Dockerfile" "$work/haproxy" >/dev/null
  find "$DAGRAD_DOCKER_CACHE" -maxdepth 1 -name 'base-images-*.tar' -delete
  docker save -o "$work/images.tar" "${images[@]}"
  mv "$work/images.tar" "$tar"
  rm -rf "$work"
  say "local base images: built and saved to $tar"
}

# When this machine holds the CPU torch wheel (pip's find-links here, /opt/wheels), serve its
# folder on loopback and set TORCH_* for the build: PyTorch's CPU index is out of reach here, and
# PyPI's torch==2.13.0 is a CUDA build. Elsewhere the Dockerfile's defaults stand.
serve_torch_wheel() {
  local dir wheel
  for dir in ${DAGRAD_WHEELS_DIR:-} ${PIP_FIND_LINKS:-} /opt/wheels; do
    wheel=$(find "$dir" -maxdepth 1 -name 'torch-2.13.0+cpu-cp311-*.whl' 2>/dev/null | head -1)
    [ -n "$wheel" ] && break
  done
  if [ -z "$wheel" ]; then
    say "no local CPU torch wheel: the build takes torch from PyTorch's CPU index"
    return
  fi
  python3 -m http.server --bind 127.0.0.1 --directory "$(dirname "$wheel")" "$DAGRAD_WHEEL_PORT" >/dev/null 2>&1 &
  WHEEL_SERVER=$!
  for _ in $(seq 50); do
    python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$DAGRAD_WHEEL_PORT/', timeout=1)" 2>/dev/null && break
    kill -0 "$WHEEL_SERVER" 2>/dev/null || die "serving $(dirname "$wheel") on port $DAGRAD_WHEEL_PORT (taken? set DAGRAD_WHEEL_PORT)"
    sleep 0.1
  done
  say "torch: $(basename "$wheel"), served to the build on 127.0.0.1:$DAGRAD_WHEEL_PORT"
  export TORCH_SPEC=torch==2.13.0+cpu TORCH_INDEX_URL=https://pypi.org/simple
  export TORCH_FIND_LINKS=http://127.0.0.1:$DAGRAD_WHEEL_PORT/ DAGRAD_BUILD_NETWORK=host
}

# Builds $DAGRAD_IMAGE with `docker-compose build`, as a user would, from the local base images.
build_dagrad_image() {
  local_base_images
  serve_torch_wheel
  export PYTHON_IMAGE NODE_IMAGE REDIS_IMAGE BALANCER_IMAGE DAGRAD_IMAGE
  say "building $DAGRAD_IMAGE (docker-compose build; $PYTHON_IMAGE, $NODE_IMAGE)"
  local log=${DAGRAD_DOCKER_ARTIFACTS:-/tmp}/docker-build.log
  if ! (cd "$REPO" && docker-compose -p "${COMPOSE_PROJECT_NAME:-dagrad}" -f docker-compose.yml build --force-rm dagrad) >"$log" 2>&1; then
    tail -40 "$log" >&2
    die "docker-compose build (whole log: $log)"
  fi
  if [ -n "$WHEEL_SERVER" ]; then
    kill "$WHEEL_SERVER" 2>/dev/null || true
    WHEEL_SERVER=
  fi
  say "built $DAGRAD_IMAGE: $(docker image inspect -f '{{.Size}}' "$DAGRAD_IMAGE" | awk '{printf "%.0f MiB", $1/1048576}')"
}

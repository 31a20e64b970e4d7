#!/usr/bin/env bash
# Deploy docker-compose.yml on a one-node Docker Swarm and measure it through the routing mesh
# with bench/load.py: requests/s and latency for 1 replica, then for 2 (`docker service scale`),
# then remove the stack (and leave the swarm, when this script made it). Run by hand, as root;
# not part of `make test`.
#
# The routing mesh and service VIPs need IPVS in the kernel. Where it has none (no
# /proc/sys/net/ipv4/vs), the stack gets docker/swarm-balancer.yml as well: HAProxy, balancing by
# connection as the mesh does, publishes port 8000 on the node (dagrad's own ingress port, which
# cannot work there, moves to DAGRAD_MESH_PORT, 18080), and redis is reached by DNS round robin.
#
#   scripts/swarm-test.sh [load.py's arguments]      # default: --clients 8 --seconds 20
#   DAGRAD_REPLICA_CPUS=0.25 scripts/swarm-test.sh   # each replica limited to a quarter core
#
# DAGRAD_REPLICA_CPUS adds docker/swarm-capacity.yml: a CPU limit on each dagrad task, so that each
# replica stands for a machine of its own (one PyTorch thread each, DAGRAD_WORKER_THREADS=1, unless
# set). The summary then gives each replica's CPU use as a share of its limit: near 100% means the
# limit, not the rest of the machine, bounded it, and 2 replicas should serve twice the requests.
# So that other work on the node cannot hold a replica below its limit (a replica of a real swarm
# has its machine to itself), the containers' CPU weight (cgroup v1 cpu.shares of Docker's
# parent group) is raised for the test and put back after it.
#
# The image is built as scripts/docker-test.sh builds it (docker/lib.sh: local base images).
# Environment: DAGRAD_IMAGE (dagrad:swarm-test), DAGRAD_PORT (8000), DAGRAD_WARMUP_SECONDS (5: a
# load before each measurement, not counted), DAGRAD_SWARM_ARTIFACTS (/tmp/dagrad-swarm-test:
# load.py's JSON, the build log), DAGRAD_KEEP_DOCKERD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=docker/lib.sh
source docker/lib.sh

exit_if_skipped "swarm test"

LOAD_ARGS=("$@")
[ ${#LOAD_ARGS[@]} -gt 0 ] || LOAD_ARGS=(--clients 8 --seconds 20)
export DAGRAD_IMAGE=${DAGRAD_IMAGE:-dagrad:swarm-test}
export DAGRAD_PORT=${DAGRAD_PORT:-8000}
export DAGRAD_REPLICAS=1
export COMPOSE_PROJECT_NAME=dagrad-swarm-test
ARTIFACTS=${DAGRAD_SWARM_ARTIFACTS:-/tmp/dagrad-swarm-test}
export DAGRAD_DOCKER_ARTIFACTS=$ARTIFACTS
mkdir -p "$ARTIFACTS"
STACK=dagrad
SERVICE=${STACK}_dagrad
URL=http://127.0.0.1:$DAGRAD_PORT
VENV_PYTHON=${VENV:-$REPO/.venv}/bin/python
[ -x "$VENV_PYTHON" ] || die "$VENV_PYTHON is missing: make install (bench/load.py runs in it)"

MADE_SWARM=
DEPLOYED=
DOCKER_SHARES=/sys/fs/cgroup/cpu/docker/cpu.shares
OLD_SHARES=
finish() {
  local rc=$?
  [ -z "$OLD_SHARES" ] || echo "$OLD_SHARES" >"$DOCKER_SHARES" || true
  if [ -n "$DEPLOYED" ]; then
    [ $rc -eq 0 ] || docker service logs --tail 40 "$SERVICE" >&2 || true
    say "docker stack rm $STACK"
    docker stack rm "$STACK" >/dev/null || true
    for _ in $(seq 60); do
      [ -z "$(docker ps -q --filter "label=com.docker.stack.namespace=$STACK")" ] && break
      sleep 1
    done
  fi
  if [ -n "$MADE_SWARM" ]; then
    say "docker swarm leave --force (this script made the swarm)"
    docker swarm leave --force >/dev/null || true
  fi
  stop_started
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

# Ready once $1 tasks run, $URL answers /api/health, and every task is healthy.
wait_ready() {
  local want=$1 running=0
  for _ in $(seq 180); do
    running=$(docker service ps "$SERVICE" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running' || true)
    if [ "$running" -ge "$want" ] &&
      python3 -c "import urllib.request as u; u.urlopen('$URL/api/health', timeout=2)" 2>/dev/null; then
      # Every replica healthy by its own HEALTHCHECK, not only the one that answered.
      local healthy
      healthy=$(docker ps -q --filter "label=com.docker.swarm.service.name=$SERVICE" --filter health=healthy | wc -l)
      [ "$healthy" -ge "$want" ] && return
    fi
    sleep 1
  done
  die "$SERVICE: $running of $want replicas running and healthy after 180 s"
}

# The CPU time of the machine (/proc/stat) and of each container of the stack (cgroup v1's
# cpuacct, where Docker's cgroupfs driver puts it), as JSON in $1: load.py's own "server" figures
# are of the process listening on the port, here docker-proxy, not of the replicas.
cpu_snapshot() {
  local out=$1 pairs=() id
  for id in $(docker ps -q --no-trunc --filter "label=com.docker.stack.namespace=$STACK"); do
    pairs+=("$id=$(docker inspect -f '{{index .Config.Labels "com.docker.swarm.service.name"}}' "$id")")
  done
  python3 - "$out" "${pairs[@]}" <<'EOF'
import json, os, sys
from pathlib import Path

out, pairs = sys.argv[1], sys.argv[2:]
ticks = os.sysconf("SC_CLK_TCK")
cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
containers = {}
for pair in pairs:
    cid, service = pair.split("=", 1)
    usage = Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage")
    if usage.exists():
        containers[cid] = {"service": service, "cpu_s": int(usage.read_text()) / 1e9}
busy = sum(cpu) - cpu[3] - cpu[4]  # all but idle and iowait
# Docker's own processes on the host (docker-proxy forwards each published port's bytes), and the
# kernel's interrupt time (the bridges, veths and VXLAN of the overlay network).
host: dict[str, float] = {"interrupts": (cpu[5] + cpu[6]) / ticks}
for stat in Path("/proc").glob("[0-9]*/stat"):
    try:
        name, fields = stat.read_text().split(" (", 1)[1].split(") ", 1)
    except (OSError, IndexError):
        continue
    if name in ("docker-proxy", "dockerd", "containerd"):
        f = fields.split()
        host[name] = host.get(name, 0.0) + (int(f[11]) + int(f[12])) / ticks
Path(out).write_text(
    json.dumps({"busy_s": busy / ticks, "total_s": sum(cpu) / ticks, "containers": containers, "host": host})
)
EOF
}

measure() {
  local replicas=$1
  say "$replicas replica(s): warm-up load, ${DAGRAD_WARMUP_SECONDS:-5} s"
  "$VENV_PYTHON" bench/load.py --url "$URL" --clients 8 --seconds "${DAGRAD_WARMUP_SECONDS:-5}" >/dev/null
  say "$replicas replica(s): bench/load.py --url $URL ${LOAD_ARGS[*]}"
  cpu_snapshot "$ARTIFACTS/cpu-$replicas-before.json"
  "$VENV_PYTHON" bench/load.py --url "$URL" "${LOAD_ARGS[@]}" --json "$ARTIFACTS/replicas-$replicas.json"
  cpu_snapshot "$ARTIFACTS/cpu-$replicas-after.json"
}

# Each dagrad task reaches redis by the name DAGRAD_REDIS_URL gives (a TCP connection, no client).
check_redis() {
  local id
  for id in $(docker ps -q --filter "label=com.docker.swarm.service.name=$SERVICE"); do
    docker exec "$id" python -c "import os, socket; socket.create_connection(('redis', 6379), timeout=5).close(); assert 'DAGRAD_MAX_NODES' not in os.environ" ||
      die "a dagrad task cannot reach redis:6379 (or got an unset DAGRAD_MAX_NODES)"
  done
  say "every dagrad task reaches redis:6379"
}

ensure_docker
build_dagrad_image
if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
  say "docker swarm init (one node, on loopback)"
  docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null
  MADE_SWARM=1
fi

STACK_FILES=(-c docker-compose.yml)
if [ -n "${DAGRAD_REPLICA_CPUS:-}" ]; then
  export DAGRAD_WORKER_THREADS=${DAGRAD_WORKER_THREADS:-1}
  STACK_FILES+=(-c docker/swarm-capacity.yml)
  if [ -w "$DOCKER_SHARES" ]; then
    OLD_SHARES=$(cat "$DOCKER_SHARES")
    echo 262144 >"$DOCKER_SHARES"
    say "Docker's containers weighted before other work here (cpu.shares $OLD_SHARES -> 262144, put back at the end)"
  else
    say "no $DOCKER_SHARES (not cgroup v1): other work on this node may hold the replicas below their limit"
  fi
fi
if [ -d /proc/sys/net/ipv4/vs ]; then
  VIA="the routing mesh"
else
  VIA="HAProxy (docker/swarm-balancer.yml: this kernel has no IPVS, so no routing mesh)"
  export BALANCER_PORT=$DAGRAD_PORT DAGRAD_PORT=${DAGRAD_MESH_PORT:-18080} DAGRAD_SERVICE=$SERVICE
  STACK_FILES+=(-c docker/swarm-balancer.yml)
fi
say "docker stack deploy ${STACK_FILES[*]} $STACK ($DAGRAD_IMAGE, $REDIS_IMAGE); $URL through $VIA"
DEPLOYED=1
docker stack deploy "${STACK_FILES[@]}" "$STACK" >"$ARTIFACTS/deploy.log" 2>&1 || {
  cat "$ARTIFACTS/deploy.log" >&2
  die "docker stack deploy"
}
sed 's/^/  /' "$ARTIFACTS/deploy.log" >&2
wait_ready 1
check_redis
measure 1

say "docker service scale $SERVICE=2"
docker service scale "$SERVICE=2" >/dev/null
wait_ready 2
check_redis
measure 2

"$VENV_PYTHON" - "$ARTIFACTS" "$(nproc)" "$VIA" "${DAGRAD_REPLICA_CPUS:-}" <<'EOF'
import json, sys
from pathlib import Path

folder, cores, via, limit = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
each = f", each replica limited to {limit} CPU" if limit else ""
print(f"\nsummary ({cores} cores, through {via}{each}):")
print(f"  {'replicas':>8}  {'200s/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  {'machine busy':>12}  CPU seconds (statuses)")
for n in (1, 2):
    r = json.loads((folder / f"replicas-{n}.json").read_text())
    before, after = (json.loads((folder / f"cpu-{n}-{at}.json").read_text()) for at in ("before", "after"))
    busy = (after["busy_s"] - before["busy_s"]) / max(after["total_s"] - before["total_s"], 1e-9)
    spent: dict[str, float] = {}
    for cid, c in after["containers"].items():
        service = c["service"].split("_", 1)[-1]
        spent[service] = spent.get(service, 0.0) + c["cpu_s"] - before["containers"].get(cid, {"cpu_s": 0.0})["cpu_s"]
    for k, v in after["host"].items():
        spent[k] = v - before["host"].get(k, 0.0)
    spent["load.py"] = r["load_generator_cpu_s"]
    # The rest: whatever else ran on the machine meanwhile.
    spent["the rest"] = after["busy_s"] - before["busy_s"] - sum(spent.values())
    cpu = ", ".join(f"{k} {v:.1f}" for k, v in spent.items())
    lat = r["latency_ms"]
    if limit:  # each dagrad task's CPU as a share of its limit over the measurement
        shares = [
            (c["cpu_s"] - before["containers"].get(cid, {"cpu_s": 0.0})["cpu_s"]) / (float(limit) * r["seconds"])
            for cid, c in after["containers"].items()
            if c["service"].endswith("_dagrad")
        ]
        cpu += "; replicas at " + ", ".join(f"{100 * s:.0f}%" for s in shares) + " of their limit"
    print(
        f"  {n:>8}  {r['ok_per_second']:>7.1f}  {lat.get('p50', 0):>7}  {lat.get('p99', 0):>7}  {100 * busy:>11.0f}%"
        f"  {cpu} in {r['seconds']} s ({r['statuses']})"
    )
EOF

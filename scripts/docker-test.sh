#!/usr/bin/env bash
# The container test (`make test-docker`, run by `make test`): build the image with docker-compose
# from local base images, start docker-compose.yml's stack (dagrad and redis), wait for health,
# evaluate an example through it (with the class token, and refused without it), open the editor in
# headless Chromium by the token link, run the example there and take a screenshot, check the GPU
# override's config, then stop the stack (always). That the compose file lists every setting is
# tests/test_compose_settings.py's, in the pytest run before this.
#
# As root it installs Docker (Debian's docker.io, docker-compose, debootstrap) when missing and
# starts dockerd when none answers (stopping it again at the end); another user, or
# DAGRAD_SKIP_DOCKER=1, skips it. Base images: docker/lib.sh (Docker Hub is out of reach here).
#
# Environment: DAGRAD_IMAGE (dagrad:test), DAGRAD_TEST_PORT (18000), DAGRAD_DOCKER_ARTIFACTS
# (/tmp/dagrad-docker-test: the build log and the screenshot), DAGRAD_DOCKER_CACHE, DAGRAD_KEEP_DOCKERD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=docker/lib.sh
source docker/lib.sh

exit_if_skipped "docker test"

START=$SECONDS
export DAGRAD_IMAGE=${DAGRAD_IMAGE:-dagrad:test}
export DAGRAD_PORT=${DAGRAD_TEST_PORT:-18000}
export COMPOSE_PROJECT_NAME=dagrad-docker-test
export DAGRAD_DOCKER_ARTIFACTS=${DAGRAD_DOCKER_ARTIFACTS:-/tmp/dagrad-docker-test}
# A class token, as a teacher sets one: the requests below carry it, and one without it must get a
# 401. DAGRAD_TEACHER_TOKEN stays unset, to check that an unset setting stays unset.
export DAGRAD_TOKEN=docker-test-token
unset DAGRAD_TEACHER_TOKEN
mkdir -p "$DAGRAD_DOCKER_ARTIFACTS"
URL=http://127.0.0.1:$DAGRAD_PORT
VENV_PYTHON=${VENV:-$REPO/.venv}/bin/python
[ -x "$VENV_PYTHON" ] || die "$VENV_PYTHON is missing: make install (the browser check uses its Playwright)"
[ -x /usr/bin/chromium ] || bash scripts/ensure-chromium.sh

compose() { docker-compose -f docker-compose.yml "$@"; }
STACK_UP=
finish() {
  local rc=$?
  if [ -n "$STACK_UP" ]; then
    if [ $rc -ne 0 ]; then compose logs --no-color --tail=60 >&2 || true; fi
    say "stopping the stack"
    compose down --volumes --remove-orphans >/dev/null 2>&1 || true
  fi
  stop_started
  if [ $rc -eq 0 ]; then
    echo "docker test passed in $((SECONDS - START)) s"
  else
    echo "docker test FAILED (exit $rc) after $((SECONDS - START)) s"
  fi
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

ensure_docker
say "GPU override: docker-compose -f docker-compose.yml -f docker-compose.gpu.yml config"
docker-compose -f docker-compose.yml -f docker-compose.gpu.yml config -q || die "docker-compose.gpu.yml does not validate"
build_dagrad_image
t_built=$SECONDS

say "docker-compose up (dagrad on $URL, redis)"
STACK_UP=1
compose up -d --no-build >/dev/null 2>"$DAGRAD_DOCKER_ARTIFACTS/compose-up.log" || {
  cat "$DAGRAD_DOCKER_ARTIFACTS/compose-up.log" >&2
  die "docker-compose up"
}

say "checking the API through the container"
"$VENV_PYTHON" - "$URL" "$DAGRAD_TOKEN" <<'EOF'
import json, math, sys, time, urllib.error, urllib.request

url, token = sys.argv[1:]
auth = {"Authorization": f"Bearer {token}"}
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as r:
            if r.status == 200:
                health = json.load(r)
                break
    except Exception as exc:
        if time.monotonic() > deadline:
            sys.exit(f"FAILED: {url}/api/health did not answer 200 in 120 s: {exc}")
        time.sleep(0.5)
print(f"  /api/health: 200, {len(json.dumps(health))} bytes", file=sys.stderr)
with urllib.request.urlopen(urllib.request.Request(f"{url}/api/examples/dag_4_1", headers=auth), timeout=30) as r:
    graph = r.read()
request = urllib.request.Request(f"{url}/api/evaluate", data=graph, headers={"content-type": "application/json", **auth})
with urllib.request.urlopen(request, timeout=60) as r:
    status, result = r.status, json.load(r)
q = result["nodes"]["q"]["value"]["stats"]["mean"]
grad = result["nodes"]["w1"]["grad"]["stats"]["mean"]
print(f"  POST /api/evaluate dag_4_1: {status}, q = {q:.4f}, mean of w1's gradient {grad:.4f}", file=sys.stderr)
# The chapter's 4.1 DAG, seeded: q = ||x3|| = 34.4214 (the CLI and the tests find the same).
if status != 200 or not math.isfinite(q) or abs(q - 34.4214) > 1e-3:
    sys.exit(f"FAILED: evaluate answered {status} with q = {q} (expected 34.4214)")
# DAGRAD_TOKEN reached the server: without it the same request is refused.
try:
    request = urllib.request.Request(f"{url}/api/evaluate", data=graph, headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=60)
    sys.exit("FAILED: /api/evaluate answered without the class token (DAGRAD_TOKEN)")
except urllib.error.HTTPError as exc:
    if exc.code != 401:
        sys.exit(f"FAILED: /api/evaluate without the class token answered {exc.code}, not 401")
print("  without the class token: 401", file=sys.stderr)
EOF

dagrad_id=$(compose ps -q dagrad)
redis_id=$(compose ps -q redis)
[ "$(docker exec "$redis_id" redis-cli ping)" = PONG ] || die "redis does not answer PING"
docker exec "$dagrad_id" python -c "import os; e = os.environ; assert e['DAGRAD_REDIS_URL'] == 'redis://redis:6379/0' and e['DAGRAD_TOKEN'] == '$DAGRAD_TOKEN' and 'DAGRAD_TEACHER_TOKEN' not in e" ||
  die "dagrad's environment: DAGRAD_REDIS_URL should name the redis service, DAGRAD_TOKEN be passed on, an unset DAGRAD_TEACHER_TOKEN stay unset"
[ "$(docker exec "$dagrad_id" id -u)" != 0 ] || die "dagrad runs as root in its container"
say "redis answers PING; dagrad runs as $(docker exec "$dagrad_id" id -un) with DAGRAD_REDIS_URL=redis://redis:6379/0"

say "a presenter room through the container, kept in its redis"
room_id=$("$VENV_PYTHON" - "$URL" "$DAGRAD_TOKEN" <<'EOF'
import json, sys, urllib.request
from websockets.sync.client import connect

url, token = sys.argv[1:]
auth = {"Authorization": f"Bearer {token}"}
with urllib.request.urlopen(urllib.request.Request(f"{url}/api/rooms", method="POST", headers=auth), timeout=30) as r:
    room = json.load(r)
ws = url.replace("http://", "ws://") + f"/api/rooms/{room['id']}/ws"
with connect(ws, additional_headers=auth, origin=url) as student, connect(ws, additional_headers=auth, origin=url) as teacher:
    student.send(json.dumps({"role": "follow"}))
    teacher.send(json.dumps({"role": "present", "key": room["key"]}))
    teacher.send(json.dumps({"part": "graph", "doc": {"nodes": []}}))
    ack, got = json.loads(teacher.recv(timeout=10)), json.loads(student.recv(timeout=10))
if ack != {"type": "ack", "seq": 1} or (got["type"], got["seq"], got["part"]) != ("state", 1, "graph"):
    sys.exit(f"FAILED: the room's state did not reach its follower: {ack} {got}")
print(f"  room {room['id']}: the presenter's state reached the follower", file=sys.stderr)
print(room["id"])
EOF
) || die "a presenter room through the container"
[ "$(docker exec "$redis_id" redis-cli exists "dagrad:room:$room_id:parts")" = 1 ] ||
  die "room $room_id is not in redis: dagrad kept it in its own process (DAGRAD_REDIS_URL unused?)"
say "room $room_id is kept in redis"

say "the editor in headless Chromium"
"$VENV_PYTHON" - "$URL" "$DAGRAD_TOKEN" "$REPO/tests/e2e/browser.py" "$DAGRAD_DOCKER_ARTIFACTS/editor.png" <<'EOF'
import runpy, sys
from playwright.sync_api import sync_playwright

url, token, browser_py, shot = sys.argv[1:]
b = runpy.run_path(browser_py)
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=b["CHROMIUM"], args=b["CHROMIUM_ARGS"])
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/?token={token}", timeout=60_000)  # the link a teacher gives students
    page.wait_for_selector("[data-testid=examples-button]", timeout=60_000)
    page.wait_for_selector("[data-testid=palette-matmul]", timeout=60_000)  # the op list came from the API
    page.click("[data-testid=examples-button]")
    page.click("[data-testid=example-dag_4_1]")
    page.click("[data-testid=run-button]")
    page.wait_for_selector("[data-testid=run-status]", timeout=60_000)
    status = page.inner_text("[data-testid=run-status]")
    page.screenshot(path=shot)
    browser.close()
print(f"  editor loaded, dag_4_1 run: {status.strip()!r}; screenshot {shot}", file=sys.stderr)
EOF

health=
for _ in $(seq 60); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$dagrad_id")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || die "the container's HEALTHCHECK says $health"
say "HEALTHCHECK: $health (build $((t_built - START)) s, checks $((SECONDS - t_built)) s)"

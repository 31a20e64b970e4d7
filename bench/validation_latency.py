"""Validation latency in the editor (not a timed test): from an edit to its validation on the page.

A generated graph (frontend_bench.generated_graph: ten chains of tanh/mul/add, summed into a loss)
is loaded in headless Chromium; then, again and again, one add node's alpha is changed through
the editor's store, as typing it in the inspector does, and the clock runs until the page holds
the validation of that very edit (the inspector's line of PyTorch for the node says the new
alpha) and has painted it. Reported, median and max over the edits:
  total     the edit to the painted validation (the budget is 300 ms for graphs up to 100 nodes);
  wait      the edit to the request's start: the debounce, then the document serialised;
  request   the request's start to its response's end (Resource Timing): the server's time
            and the loopback;
  apply     the response's end to the painted page.
And the server alone: POST /api/validate of the same document, timed by httpx (median of 20).

Usage: .venv/bin/python bench/validation_latency.py [--nodes 100] [--edits 15]
Needs the built editor (cd frontend && npm run build) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from e2e.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the same flags as the e2e tests)
from frontend_bench import generated_graph  # noqa: E402
from server import server  # noqa: E402  (bench/server.py: uvicorn on a free port)

EDIT_JS = """async ([id, alpha]) => {
  const { graph, results } = window.__dagrad;
  performance.clearResourceTimings();
  const t0 = performance.now();
  graph.getState().setAttr(id, 'alpha', alpha);
  const wanted = `alpha=${alpha}`;
  await new Promise((resolve) => {
    const tick = () => ((results.getState().torch[id] ?? '').includes(wanted) && !results.getState().validating
      ? resolve() : requestAnimationFrame(tick));
    tick();
  });
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));  // painted
  const end = performance.now();
  const r = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/api/validate')).pop();
  return { total: end - t0, wait: r.requestStart - t0, request: r.responseEnd - r.requestStart,
           apply: end - r.responseEnd };
}"""


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--edits", type=int, default=15)
    args = parser.parse_args()
    doc = generated_graph(args.nodes)
    adds = [n["id"] for n in doc["nodes"] if n["op"] == "add"]
    with server() as url:
        with httpx.Client() as client:
            assert client.post(f"{url}/api/validate", json=doc).json()["valid"], "the generated graph is invalid"
            server_ms = []
            for _ in range(20):
                t = time.perf_counter()
                client.post(f"{url}/api/validate", json=doc).raise_for_status()
                server_ms.append((time.perf_counter() - t) * 1000)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url)
            page.wait_for_selector("[data-testid=palette-search]")
            page.evaluate("doc => window.__dagrad.graph.getState().loadDoc(doc)", doc)
            page.wait_for_selector("[data-testid=validation-status]:has-text('shapes check out')", timeout=30000)
            edits = [page.evaluate(EDIT_JS, [adds[k % len(adds)], 1.5 + k / 8]) for k in range(args.edits)]
            browser.close()
    result = {
        "nodes": len(doc["nodes"]),
        **{part: summary([e[part] for e in edits]) for part in ("total", "wait", "request", "apply")},
        "server_alone_ms": summary(server_ms),
    }
    print(json.dumps(result, indent=2))
    print(
        f"{result['nodes']} nodes: edit to painted validation {result['total']['median']:.0f} ms median, "
        f"{result['total']['max']:.0f} ms max (budget 300)"
    )


if __name__ == "__main__":
    main()

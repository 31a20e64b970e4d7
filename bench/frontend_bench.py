"""Frontend benchmark (not a timed test): a 300-node graph in headless Chromium.

Reports
  1. load + render: from handing the editor a generated 300-node graph to every node drawn
     on the canvas (median of several loads; the budget is 1 s);
  2. results on canvas: from the /api/evaluate response's arrival to the frame that shows
     every node's value (median of several runs; the budget is 100 ms).

Usage: .venv/bin/python bench/frontend_bench.py [--nodes 300] [--repeat 5]
Needs the built editor (cd frontend && npm run build) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from e2e.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the same flags as the e2e tests)


def generated_graph(n: int) -> dict[str, Any]:
    """Ten parallel chains of tanh/mul/add over [8, 8] tensors, summed into one scalar loss."""
    nodes: list[dict[str, Any]] = []
    layout: dict[str, dict[str, float]] = {}
    chains = 10
    per = (n - chains - 2) // chains  # sources, chain ops, the final sum
    heads = []
    for c in range(chains):
        src = f"p{c}"
        nodes.append({"id": src, "op": "parameter", "attrs": {"shape": [8, 8], "init": "normal"}})
        layout[src] = {"x": 0, "y": c * 140}
        prev = src
        for k in range(per):
            nid = f"c{c}_{k}"
            op = ("tanh", "mul", "add")[k % 3]
            inputs = {"input": prev} if op == "tanh" else {"input": prev, "other": src}
            nodes.append({"id": nid, "op": op, "inputs": inputs})
            layout[nid] = {"x": (k + 1) * 230, "y": c * 140}
            prev = nid
        heads.append(prev)
    nodes.append({"id": "all", "op": "stack", "inputs": {"tensors": heads}})
    nodes.append({"id": "loss", "op": "sum", "inputs": {"input": "all"}})
    layout["all"] = {"x": (per + 1) * 230, "y": 600}
    layout["loss"] = {"x": (per + 2) * 230, "y": 600}
    while len(nodes) < n:  # pad with extra sources to reach exactly n
        i = len(nodes)
        nodes.append({"id": f"pad{i}", "op": "constant", "attrs": {"shape": [2]}})
        layout[f"pad{i}"] = {"x": -230, "y": (i % 20) * 140}
    return {"version": 1, "nodes": nodes, "run": {"seed": 0, "output": "loss"}, "layout": layout}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LOAD_JS = """async (doc) => {
  const t0 = performance.now();
  window.__dagrad.graph.getState().loadDoc(doc);
  const n = doc.nodes.length;
  return await new Promise((resolve) => {
    const tick = () => {
      const drawn = document.querySelectorAll('.react-flow__node:not([style*="visibility: hidden"])').length;
      if (drawn >= n) requestAnimationFrame(() => resolve(performance.now() - t0));
      else requestAnimationFrame(tick);
    };
    tick();
  });
}"""

RUN_JS = """async () => {
  window.__dagradPaint = undefined;
  document.querySelector('[data-testid=run-button]').click();
  return await new Promise((resolve) => {
    const tick = () => {
      const p = window.__dagradPaint;
      if (p) resolve(p.paintedAt - p.responseAt);
      else requestAnimationFrame(tick);
    };
    tick();
  });
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    doc = generated_graph(args.nodes)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "dagrad.api.main:app", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        assert httpx.post(f"{url}/api/validate", json=doc).status_code == 200, "the generated graph is invalid"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url)
            page.wait_for_selector("[data-testid=palette-search]")
            loads = []
            for _ in range(args.repeat):
                page.evaluate("window.__dagrad.graph.getState().clear()")
                page.wait_for_timeout(100)
                loads.append(page.evaluate(LOAD_JS, doc))
            page.wait_for_selector("[data-testid=validation-status]:has-text('shapes check out')", timeout=30000)
            runs = []
            for _ in range(args.repeat):
                runs.append(page.evaluate(RUN_JS))
                page.wait_for_timeout(200)
            browser.close()
    finally:
        server.terminate()
        server.wait()
    result = {
        "nodes": len(doc["nodes"]),
        "load_render_ms": {"median": statistics.median(loads), "all": [round(x, 1) for x in loads]},
        "results_on_canvas_ms": {"median": statistics.median(runs), "all": [round(x, 1) for x in runs]},
    }
    print(json.dumps(result, indent=2))
    print(
        f"load+render {result['load_render_ms']['median']:.0f} ms (budget 1000), "
        f"results on canvas {result['results_on_canvas_ms']['median']:.0f} ms after the response (budget 100)"
    )


if __name__ == "__main__":
    main()

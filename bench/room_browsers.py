"""A classroom in one machine: a teacher's page presents, N student pages (headless Chromium, one
browser) follow the room; the teacher adds a node, and this measures how long until every
student's canvas shows it, edit after edit.

    python bench/room_browsers.py [--students 30] [--edits 5] [--example dag_4_1]

Starts a server from this checkout (bench/server.py). Every page runs on this machine's cores
with the server, so the figure is an upper bound of what thirty laptops would see. A
measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import runpy
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import uvicorn_process

HERE = Path(__file__).resolve().parent
BROWSER = runpy.run_path(str(HERE.parent / "tests" / "e2e" / "browser.py"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--edits", type=int, default=5)
    p.add_argument("--example", default="dag_4_1")
    args = p.parse_args()
    with uvicorn_process() as (url, _pid), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=BROWSER["CHROMIUM"], args=BROWSER["CHROMIUM_ARGS"])
        # Playwright's string predicates are eval, which the page's CSP refuses: lifted for the teacher.
        teacher = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 720}).new_page()
        teacher.goto(url)
        teacher.click("[data-testid=examples-button]")
        teacher.click(f"[data-testid=example-{args.example}]")
        teacher.wait_for_selector("[data-testid=validation-status]:has-text('shapes check out')")
        teacher.click("[data-testid=present-button]")
        link = teacher.locator("[data-testid=room-link]").input_value()
        start = time.perf_counter()
        students = []
        for _ in range(args.students):
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            page.goto(link)
            students.append(page)
        for page in students:
            page.wait_for_selector(".react-flow__node", timeout=120_000)
        opened = time.perf_counter() - start
        lags = []
        for _ in range(args.edits):
            before = set(teacher.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)"))
            teacher.bring_to_front()
            teacher.keyboard.press("/")
            teacher.wait_for_function("document.activeElement?.dataset?.testid === 'palette-search'")
            teacher.fill("[data-testid=palette-search]", "tanh")  # the box keeps the last search
            t0 = time.perf_counter()
            teacher.keyboard.press("Enter")
            teacher.wait_for_function(f"document.querySelectorAll('.react-flow__node').length > {len(before)}")
            after = set(teacher.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)"))
            added = (after - before).pop()
            for page in students:
                page.wait_for_selector(f".react-flow__node[data-id='{added}']", timeout=60_000)
            lags.append(time.perf_counter() - t0)
            teacher.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
            time.sleep(0.5)
        browser.close()
    print(
        json.dumps(
            {
                "students": args.students,
                "example": args.example,
                "all_pages_open_s": round(opened, 1),
                "edit_to_every_student_ms": [round(1000 * t) for t in lags],
                "median_ms": round(1000 * statistics.median(lags)),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Drive the editor like a person: drag ops from the palette, wire ports, fill the inspector."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout


class Editor:
    def __init__(self, page: Any) -> None:
        self.page = page

    # -- building -----------------------------------------------------------------------------
    def add(self, op: str, name: str, x: float, y: float) -> None:
        """Drag `op` from the palette to (x, y) on the page, then name it in the inspector."""
        self.page.fill("[data-testid=palette-search]", op)
        canvas = self.page.locator("[data-testid=canvas]")
        box = canvas.bounding_box()
        self.page.locator(f"[data-testid=palette-{op}]").drag_to(
            canvas, target_position={"x": x - box["x"], "y": y - box["y"]}
        )
        default = self.page.locator("[data-testid=node-id]").input_value()
        self.rename(default, name)
        self.page.fill("[data-testid=palette-search]", "")

    def rename(self, old: str, new: str) -> None:
        field = self.page.locator("[data-testid=node-id]")
        field.fill(new)
        field.press("Enter")
        self.page.wait_for_selector(f".react-flow__node[data-id='{new}']")
        assert old == new or self.page.locator(f".react-flow__node[data-id='{old}']").count() == 0

    def set_attr(self, name: str, text: str) -> None:
        field = self.page.locator(f"[data-testid=attr-{name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(text)
        else:
            field.fill(text)
            field.press("Enter")

    def select(self, node: str) -> None:
        self.page.locator(f".react-flow__node[data-id='{node}'] .op-head").click()
        self.page.wait_for_function(f"document.querySelector('[data-testid=node-id]')?.value === {json.dumps(node)}")

    def connect(self, source: str, target: str, port: str) -> None:
        """Press on the source's output dot, move to the target's port, release. Once more when no
        wire came of it (a node that grew or moved under a loaded machine's slow frames): a person
        tries again too. A wire the editor refuses stays refused, whatever the tries."""
        src = self.page.locator(f".react-flow__handle[data-nodeid='{source}'][data-handleid='out']")
        dst = self.page.locator(f".react-flow__handle[data-nodeid='{target}'][data-handleid='{port}']")
        edge = f"{source}->{target}.{port}"
        for _ in range(3):
            self.bring_into_view(src, dst)
            self._drag(src, dst)
            try:
                self.page.wait_for_function(
                    "id => window.__dagrad.graph.getState().graph.edges.some(e => e.id === id)", arg=edge, timeout=2000
                )
                return
            except PlaywrightTimeout:
                continue

    def _drag(self, src: Any, dst: Any) -> None:
        a = src.bounding_box()
        mouse = self.page.mouse
        mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
        mouse.down()
        # Re-measure: nodes grow as live validation fills them in.
        b = dst.bounding_box()
        mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
        b = dst.bounding_box()
        mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
        mouse.up()

    def bring_into_view(self, *handles: Any) -> None:
        """Zoom the canvas out (its own − button) until every handle lies on it: the readable Fit
        shows a wide graph from its inputs, and a person zooms out to reach the far end."""
        canvas = self.page.locator("[data-testid=canvas]")
        for _ in range(8):
            c = canvas.bounding_box()
            boxes = [h.bounding_box() for h in handles]
            if all(
                b
                and c["x"] <= b["x"]
                and b["x"] + b["width"] <= c["x"] + c["width"]
                and c["y"] <= b["y"]
                and b["y"] + b["height"] <= c["y"] + c["height"]
                for b in boxes
            ):
                return
            self.page.click(".react-flow__controls-zoomout")
            self.page.wait_for_timeout(250)  # the zoom drawn before the boxes are read again

    def has_edge(self, source: str, target: str, port: str) -> bool:
        edge = f"{source}->{target}.{port}"
        return bool(
            self.page.evaluate("id => window.__dagrad.graph.getState().graph.edges.some(e => e.id === id)", edge)
        )

    # -- reading ------------------------------------------------------------------------------
    def doc(self) -> dict[str, Any]:
        """The graph document the editor would save."""
        return self.page.evaluate("window.__dagrad.toDoc(window.__dagrad.graph.getState().graph)")

    def edge_count(self) -> int:
        return int(self.page.evaluate("window.__dagrad.graph.getState().graph.edges.length"))

    def wait_valid(self) -> None:
        self.page.wait_for_selector("[data-testid=validation-status]:has-text('shapes check out')")

    def run(self) -> None:
        self.page.click("[data-testid=run-button]")
        self.page.wait_for_selector("[data-testid=run-status]")

    def open_example(self, name: str) -> None:
        self.page.click("[data-testid=examples-button]")
        self.page.click(f"[data-testid=example-{name}]")
        self.page.wait_for_selector(".react-flow__node")

    def shared_badges(self) -> dict[str, str]:
        """Each node with a "shared" badge, by id, with the badge's tooltip."""
        return dict(
            self.page.locator(".react-flow__node:has(.badge.shared)").evaluate_all(
                "els => els.map(e => [e.dataset.id, e.querySelector('.badge.shared').title])"
            )
        )

    def deselect(self) -> None:
        """Click the canvas's empty top-left corner: the inspector shows the run settings again."""
        self.page.locator(".react-flow__pane").click(position={"x": 8, "y": 8})
        self.page.wait_for_selector("[data-testid=run-settings]")

    def table_value(self, view: str, index: str) -> float:
        """An element's exact value from the inspector's table view of `view` (value-view or grad-view)."""
        box = self.page.locator(f"[data-testid={view}]")
        box.get_by_role("button", name="Table").click()
        title = box.locator(f"td[data-index='{index}']").get_attribute("title")
        return float(title.split("=")[1])

    # -- keyboard, selection and the node list -------------------------------------------------
    def node(self, node_id: str) -> Any:
        """The node as drawn on the canvas."""
        return self.page.locator(f".react-flow__node[data-id='{node_id}']")

    def node_ids(self) -> list[str]:
        """The ids of the nodes drawn on the canvas, in page order."""
        return list(self.page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)"))

    def add_by_keyboard(self, query: str) -> None:
        """Press "/" to reach the palette's search, type `query`, press Enter (the page's focus moves)."""
        self.page.keyboard.press("/")
        self.page.wait_for_function("document.activeElement?.dataset?.testid === 'palette-search'")
        self.page.keyboard.type(query)
        self.page.keyboard.press("Enter")

    # -- the toolbar ----------------------------------------------------------------------------
    def tool(self, testid: str) -> None:
        """Click a toolbar button, in the row or, where the row had no room for it, in the "⋯" menu."""
        button = self.page.locator(f"[data-testid=toolbar-row] [data-testid={testid}]")
        if not button.count():
            self.page.click("[data-testid=toolbar-more]")
            button = self.page.locator(f"[data-testid=toolbar-menu] [data-testid={testid}]")
        button.click()

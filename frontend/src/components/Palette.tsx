// The palette: every op from GET /api/ops by category, with search. Drag onto the canvas, click, or press Enter.
import { useReactFlow } from "@xyflow/react";
import { useMemo, useState } from "react";
import type { OpInfo } from "../api/types";
import { around, boxOf, estimatedSize, placeNode, shown } from "../core/placement";
import { useGraph } from "../store/graphStore";
import { DRAG_MIME } from "./Canvas";

function firstLine(doc: string) {
  return doc.split("\n")[0];
}

export function Palette() {
  const ops = useGraph((s) => s.ops);
  const categories = useGraph((s) => s.categories);
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const flow = useReactFlow();

  // Sections in the order shown: a query puts the op named exactly so first, then names that start
  // with it, then names that hold it, then doc matches; `matches` is that order, for Enter and arrows.
  const sections = useMemo(() => {
    const q = query.trim().toLowerCase();
    const rank = (o: OpInfo) =>
      o.name === q ? 0 : o.name.startsWith(q) ? 1 : o.name.includes(q) ? 2 : o.category.includes(q) ? 3 : 4;
    const found = Object.values(ops).filter(
      (o) => !q || o.name.includes(q) || o.category.includes(q) || o.doc.toLowerCase().includes(q),
    );
    const list = categories
      .map((cat) => ({
        cat,
        items: found.filter((o) => o.category === cat).sort((a, b) => (q ? rank(a) - rank(b) : 0)),
      }))
      .filter((sec) => sec.items.length);
    return q ? list.sort((a, b) => rank(a.items[0]) - rank(b.items[0])) : list;
  }, [ops, categories, query]);
  const matches = useMemo(() => sections.flatMap((sec) => sec.items), [sections]);

  // Beside the selection, or in the middle of the view, where no node is (core/placement.ts);
  // the view goes to it when there was no room in sight.
  const addAtCentre = (op: OpInfo) => {
    const el = document.querySelector(".canvas")?.getBoundingClientRect();
    const inset = 24; // off the canvas's edges (and its controls)
    const corner = flow.screenToFlowPosition({ x: (el?.left ?? 0) + inset, y: (el?.top ?? 0) + inset });
    const far = flow.screenToFlowPosition({ x: (el?.right ?? 800) - inset, y: (el?.bottom ?? 600) - inset });
    const view = { ...corner, width: far.x - corner.x, height: far.y - corner.y };
    const { graph, addNode } = useGraph.getState();
    const size = estimatedSize(op.ports.length);
    const anchor = around(graph.nodes.filter((n) => n.selected).map(boxOf));
    const at = placeNode(size, graph.nodes.map(boxOf), anchor, view);
    addNode(op.name, at);
    if (!shown(at, size, view)) {
      flow.setCenter(at.x + size.width / 2, at.y + size.height / 2, { zoom: flow.getZoom(), duration: 200 });
    }
  };

  const onKey = (ev: React.KeyboardEvent) => {
    if (ev.key === "ArrowDown") setActive((a) => Math.min(a + 1, matches.length - 1));
    else if (ev.key === "ArrowUp") setActive((a) => Math.max(a - 1, 0));
    else if (ev.key === "Enter" && matches[active]) {
      addAtCentre(matches[active]);
      setQuery(""); // the next search starts afresh, not appended to this one
      setActive(0);
    } else if (ev.key === "Escape") setQuery("");
    else return;
    ev.preventDefault();
  };

  return (
    <aside className="palette" aria-label="Operators">
      <input
        className="search"
        type="search"
        placeholder="Search ops…  ( / )"
        value={query}
        data-testid="palette-search"
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKey}
      />
      <div className="palette-list">
        {sections.map(({ cat, items }) => {
          return (
            <section key={cat}>
              <h3>{cat}</h3>
              {items.map((o) => (
                <button
                  type="button"
                  key={o.name}
                  className={`palette-item cat-${o.category}${query && matches[active] === o ? " active" : ""}`}
                  data-testid={`palette-${o.name}`}
                  draggable
                  title={`${o.doc}\n\nPyTorch: ${o.torch}`}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DRAG_MIME, o.name);
                    e.dataTransfer.effectAllowed = "copy";
                  }}
                  onClick={() => addAtCentre(o)}
                >
                  <span className="item-name">{o.name}</span>
                  <span className="item-doc">{firstLine(o.doc)}</span>
                </button>
              ))}
            </section>
          );
        })}
        {!matches.length && <p className="muted">No op matches “{query}”.</p>}
      </div>
    </aside>
  );
}

// no_grad regions on the canvas: a dashed frame around each region's nodes, following them as
// they move, with its name and a button that removes it (the nodes stay). Dragging a corner
// resizes the frame; let go, and the region holds the nodes whose centre the frame covers, and
// fits them again.
import { useReactFlow, ViewportPortal } from "@xyflow/react";
import { useState } from "react";
import { nodesInRect, type Rect } from "../core/graph";
import { useGraph } from "../store/graphStore";

const PAD = 14;
const HEAD = 22;

type Corner = "nw" | "se";

interface Drag {
  region: string;
  rect: Rect; // the frame being dragged, flow coordinates
}

/** The frame as it is while `corner` is dragged by (dx, dy) in flow coordinates: never inverted. */
function dragged(start: Rect, corner: Corner, dx: number, dy: number): Rect {
  const min = 2 * PAD;
  if (corner === "se") {
    return { ...start, width: Math.max(min, start.width + dx), height: Math.max(min, start.height + dy) };
  }
  const width = Math.max(min, start.width - dx);
  const height = Math.max(min, start.height - dy);
  return { x: start.x + start.width - width, y: start.y + start.height - height, width, height };
}

export function Regions() {
  const regions = useGraph((s) => s.graph.regions);
  useGraph((s) => s.graph.nodes); // drawn again when a node moves: the frames follow
  const flow = useReactFlow();
  const [drag, setDrag] = useState<Drag | null>(null);
  if (!regions?.length) return null;

  const startDrag = (region: string, frame: Rect, corner: Corner) => (e: React.PointerEvent) => {
    e.stopPropagation();
    e.preventDefault();
    const zoom = flow.getZoom();
    const [x0, y0] = [e.clientX, e.clientY];
    let rect = frame;
    const move = (m: PointerEvent) => {
      rect = dragged(frame, corner, (m.clientX - x0) / zoom, (m.clientY - y0) / zoom);
      setDrag({ region, rect });
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      setDrag(null);
      useGraph.getState().resizeRegion(region, nodesInRect(flow.getNodes(), rect));
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    setDrag({ region, rect });
  };

  return (
    <ViewportPortal>
      {regions.map((r) => {
        const b = flow.getNodesBounds(r.nodes);
        const fitted = {
          x: b.x - PAD,
          y: b.y - PAD - HEAD,
          width: b.width + 2 * PAD,
          height: b.height + 2 * PAD + HEAD,
        };
        const frame = drag?.region === r.id ? drag.rect : fitted;
        return (
          <div
            key={r.id}
            className={`region${drag?.region === r.id ? " resizing" : ""}`}
            data-testid={`region-${r.id}`}
            style={{
              transform: `translate(${frame.x}px, ${frame.y}px)`,
              width: frame.width,
              height: frame.height,
            }}
          >
            <div
              className="region-head"
              title="These ops run under torch.no_grad(): their results do not require grad"
            >
              with torch.no_grad(): <span className="muted">{r.label || r.id}</span>
              <button
                type="button"
                className="link"
                data-testid={`region-remove-${r.id}`}
                title="Remove the region (the nodes stay)"
                onClick={() => useGraph.getState().removeRegion(r.id)}
              >
                ✕
              </button>
            </div>
            {(["nw", "se"] as const).map((corner) => (
              <div
                key={corner}
                className={`region-corner nodrag nopan ${corner}`}
                data-testid={`region-${corner}-${r.id}`}
                title="Drag to take nodes in or leave them out"
                onPointerDown={startDrag(r.id, fitted, corner)}
              />
            ))}
          </div>
        );
      })}
    </ViewportPortal>
  );
}

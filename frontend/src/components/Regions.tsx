// no_grad regions on the canvas: a dashed frame around each region's nodes, following them as
// they move, with its name and a button that removes it (the nodes stay).
import { useReactFlow, ViewportPortal } from "@xyflow/react";
import { useGraph } from "../store/graphStore";

const PAD = 14;
const HEAD = 22;

export function Regions() {
  const regions = useGraph((s) => s.graph.regions);
  useGraph((s) => s.graph.nodes); // drawn again when a node moves: the frames follow
  const flow = useReactFlow();
  if (!regions?.length) return null;
  return (
    <ViewportPortal>
      {regions.map((r) => {
        const b = flow.getNodesBounds(r.nodes);
        return (
          <div
            key={r.id}
            className="region"
            data-testid={`region-${r.id}`}
            style={{
              transform: `translate(${b.x - PAD}px, ${b.y - PAD - HEAD}px)`,
              width: b.width + 2 * PAD,
              height: b.height + 2 * PAD + HEAD,
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
          </div>
        );
      })}
    </ViewportPortal>
  );
}

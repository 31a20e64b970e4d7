// An edge labelled with the shape of the tensor it carries, drawn as autograd sees it: solid when
// the tensor requires grad (backward goes back along it), dashed when it does not. Its label goes
// where no other label or node is; a crowded one shows while the edge is hovered or selected.
import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath } from "@xyflow/react";
import { memo, useEffect, useLayoutEffect, useMemo } from "react";
import { windowLines } from "../core/field";
import { regionOf } from "../core/graph";
import { shapeText } from "../core/tensor";
import { useField } from "../store/fieldStore";
import { useGraph } from "../store/graphStore";
import { useLabels } from "../store/labelStore";
import { useResults } from "../store/resultsStore";
import "./ShapeEdge.css";

const { report, setHovered } = useLabels.getState();

function ShapeEdgeView(props: EdgeProps) {
  const { id, source, sourceX, sourceY, targetX, targetY, markerEnd, selected } = props;
  const shape = useResults((s) => s.run?.nodes[source]?.shape ?? s.metas[source]?.shape);
  // Whether the tensor carried requires grad: the edges backward can go back through.
  const tracked = useResults((s) => (s.run?.nodes[source] ?? s.metas[source])?.requires_grad);
  // Into a no_grad region from outside it: the backward graph is cut here.
  const cut = useGraph((s) => {
    const region = regionOf(s.graph, props.target);
    return Boolean(region && !region.nodes.includes(source));
  });
  const [path] = getBezierPath(props);
  // Placed with every other label, clear of them and of the nodes (store/labelStore.ts).
  const text = shape ? shapeText(shape) : null;
  useLayoutEffect(() => {
    report(id, text ? { sx: sourceX, sy: sourceY, tx: targetX, ty: targetY, text } : null);
  }, [id, text, sourceX, sourceY, targetX, targetY]);
  useEffect(() => () => report(id, null), [id]);
  // Out of a conv or pool: the output-size arithmetic that gave this shape, numbers filled in
  // (validate's windows), shown while the edge is hovered or selected.
  const windows = useField((s) => s.windows[source]);
  const arithmetic = useMemo(() => (windows ? windowLines(windows) : []), [windows]);
  const placed = useLabels((s) => s.placed[id]);
  const hovered = useLabels((s) => s.hovered === id);
  const shown = placed && (!placed.crowded || hovered || selected);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: hovering an edge shows its label when crowded
    <g onMouseEnter={() => setHovered(id)} onMouseLeave={() => setHovered(null)}>
      <BaseEdge
        path={path}
        markerEnd={markerEnd}
        className={`${cut && tracked ? "edge-cut" : tracked ? "edge-tracked" : tracked === false ? "edge-untracked" : ""}${selected ? " edge-selected" : ""}`}
      />
      {text && shown && (
        <EdgeLabelRenderer>
          {/* biome-ignore lint/a11y/noStaticElementInteractions: hovering a conv's or pool's label shows its arithmetic */}
          <div
            className={`edge-label${placed.crowded ? " crowded" : ""}${arithmetic.length ? " has-windows" : ""}`}
            data-edge={id}
            onMouseEnter={arithmetic.length ? () => setHovered(id) : undefined}
            onMouseLeave={arithmetic.length ? () => setHovered(null) : undefined}
            style={{ transform: `translate(-50%, -50%) translate(${placed.x}px, ${placed.y}px)` }}
          >
            {text}
            {arithmetic.length > 0 && (hovered || selected) && (
              <div className="edge-windows" data-testid={`windows-${source}`}>
                {arithmetic.map((line, i) => (
                  <div key={line + String(i)}>
                    {arithmetic.length > 1 ? (i === 0 ? "H: " : "W: ") : ""}
                    {line}
                  </div>
                ))}
              </div>
            )}
          </div>
        </EdgeLabelRenderer>
      )}
    </g>
  );
}

export const ShapeEdge = memo(ShapeEdgeView);
export const edgeTypes = { shape: ShapeEdge };

// An edge labelled with the shape of the tensor it carries, drawn as autograd sees it: solid when
// the tensor requires grad (backward goes back along it), dashed when it does not.
import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath } from "@xyflow/react";
import { memo } from "react";
import { regionOf } from "../core/graph";
import { shapeText } from "../core/tensor";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";

function ShapeEdgeView(props: EdgeProps) {
  const { source, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, markerEnd, selected } =
    props;
  const shape = useResults((s) => s.run?.nodes[source]?.shape ?? s.metas[source]?.shape);
  // Whether the tensor carried requires grad: the edges backward can go back through.
  const tracked = useResults((s) => (s.run?.nodes[source] ?? s.metas[source])?.requires_grad);
  // Into a no_grad region from outside it: the backward graph is cut here.
  const cut = useGraph((s) => {
    const region = regionOf(s.graph, props.target);
    return Boolean(region && !region.nodes.includes(source));
  });
  const [path, lx, ly] = getBezierPath({
    sourceX,
    sourceY,
    targetX,
    targetY,
    sourcePosition,
    targetPosition,
  });
  return (
    <>
      <BaseEdge
        path={path}
        markerEnd={markerEnd}
        className={`${cut && tracked ? "edge-cut" : tracked ? "edge-tracked" : tracked === false ? "edge-untracked" : ""}${selected ? " edge-selected" : ""}`}
      />
      {shape && (
        <EdgeLabelRenderer>
          <div
            className="edge-label"
            style={{ transform: `translate(-50%, -50%) translate(${lx}px, ${ly}px)` }}
          >
            {shapeText(shape)}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const ShapeEdge = memo(ShapeEdgeView);
export const edgeTypes = { shape: ShapeEdge };

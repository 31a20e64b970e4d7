// Auto-layout with dagre, left to right. Each node takes the room it is drawn with when the canvas
// has measured it (a node grows with its preview: a vector printed as numbers, a mosaic), else a
// default: the Auto-layout button, pressed once values show, leaves no node over another.
import dagre from "@dagrejs/dagre";
import type { EditorGraph } from "./graph";

export const NODE_W = 180;
export const NODE_H = 110;

export function autoLayout(graph: EditorGraph): EditorGraph {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 30, ranksep: 45 });
  g.setDefaultEdgeLabel(() => ({}));
  const size = (n: EditorGraph["nodes"][number]) => ({
    width: n.measured?.width || NODE_W,
    height: n.measured?.height || NODE_H,
  });
  for (const n of graph.nodes) g.setNode(n.id, size(n));
  for (const e of graph.edges) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      const p = g.node(n.id);
      const { width, height } = size(n);
      return { ...n, position: { x: Math.round(p.x - width / 2), y: Math.round(p.y - height / 2) } };
    }),
  };
}

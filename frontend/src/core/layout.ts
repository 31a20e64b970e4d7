// Auto-layout with dagre, left to right. Each node takes the room it is drawn with when the canvas
// has measured it (a node grows with its preview: a vector printed as numbers, a mosaic), else a
// default; and whether nodes overlap as drawn, which is when a graph the user has not arranged
// by hand is laid out again (store/graphStore.ts, `tidy`).
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

/** Whether any two nodes' boxes overlap, as drawn (measured) or as laid out (the defaults). */
export function overlapping(graph: EditorGraph): boolean {
  const boxes = graph.nodes
    .map((n) => ({
      x: n.position.x,
      y: n.position.y,
      w: n.measured?.width || NODE_W,
      h: n.measured?.height || NODE_H,
    }))
    .sort((a, b) => a.x - b.x);
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    // sorted by x: only the boxes that start before this one ends can reach it
    for (let j = i + 1; j < boxes.length && boxes[j].x < a.x + a.w; j++) {
      const b = boxes[j];
      if (a.y < b.y + b.h && b.y < a.y + a.h) return true;
    }
  }
  return false;
}

// Copy and paste: the selected nodes and the edges among them, pasted with fresh ids and an offset.
import { type EditorGraph, freshId, makeEdge } from "./graph";

export interface Clip {
  nodes: EditorGraph["nodes"];
  edges: EditorGraph["edges"];
}

export function copySelection(graph: EditorGraph): Clip | null {
  const nodes = graph.nodes.filter((n) => n.selected);
  if (!nodes.length) return null;
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
}

export function paste(graph: EditorGraph, clip: Clip, offset = 40): EditorGraph {
  const rename = new Map<string, string>();
  let g: EditorGraph = {
    ...graph,
    nodes: graph.nodes.map((n) => ({ ...n, selected: false })),
    edges: graph.edges.map((e) => ({ ...e, selected: false })),
  };
  for (const n of clip.nodes) {
    const id = freshId(g, n.id);
    rename.set(n.id, id);
    g = {
      ...g,
      nodes: [
        ...g.nodes,
        {
          ...n,
          id,
          selected: true,
          position: { x: n.position.x + offset, y: n.position.y + offset },
          data: structuredClone(n.data),
        },
      ],
    };
  }
  const edges = clip.edges.map((e) =>
    makeEdge(rename.get(e.source) as string, rename.get(e.target) as string, e.targetHandle),
  );
  return { ...g, edges: [...g.edges, ...edges] };
}

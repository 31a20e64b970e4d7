// The editor's graph, React-free: plain JSON nodes and edges shaped as React Flow draws them.
import type { GraphDoc, GraphNodeDoc, Region, RunConfig } from "../api/types";
import { renameInChecks } from "./exercise";
import { handleId, parseHandle } from "./ports";
import type { TrainSection } from "./training";

export interface NodeData {
  [key: string]: unknown;
  op: string;
  attrs: Record<string, unknown>;
  label?: string | null;
}

export interface EditorNode {
  id: string;
  type: "op";
  position: { x: number; y: number };
  data: NodeData;
  selected?: boolean;
  /** Its size as the canvas drew it (React Flow's measurement; absent until drawn). */
  measured?: { width?: number; height?: number };
}

export interface EditorEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: "out";
  targetHandle: string;
  selected?: boolean;
}

export interface EditorGraph {
  nodes: EditorNode[];
  edges: EditorEdge[];
  run: RunConfig;
  /** no_grad regions: parts of the graph run under torch.no_grad(). */
  regions?: Region[];
  title?: string | null;
  description?: string | null;
  meta?: Record<string, unknown>;
  /** How to train it (core/training.ts); absent until the Train panel sets it or a file brings it. */
  train?: TrainSection | null;
}

export const defaultRun = (): RunConfig => ({
  seed: 0,
  device: "cpu",
  dtype: "float32",
  output: null,
  wrt: null,
  grad_output: null,
  backward_passes: 1,
  retain_graph: null,
  zero_grad: false,
  training: true, // a fresh nn.Module's mode: batch_norm's batch statistics, dropout drops
});

export const emptyGraph = (): EditorGraph => ({ nodes: [], edges: [], run: defaultRun() });

export const edgeId = (source: string, target: string, targetHandle: string) =>
  `${source}->${target}.${targetHandle}`;

export function makeEdge(source: string, target: string, targetHandle: string): EditorEdge {
  return { id: edgeId(source, target, targetHandle), source, target, sourceHandle: "out", targetHandle };
}

/** The API's document: inputs by port name, variadic ports as lists in handle order, layout apart. */
export function toDoc(graph: EditorGraph): GraphDoc {
  // Each node's incoming edges, in edge order, grouped once (not a scan of all edges per node).
  const incoming = new Map<string, EditorEdge[]>();
  for (const e of graph.edges) {
    const list = incoming.get(e.target);
    if (list) list.push(e);
    else incoming.set(e.target, [e]);
  }
  const nodes: GraphNodeDoc[] = graph.nodes.map((n) => {
    const inputs: Record<string, string | string[]> = {};
    const lists: Record<string, [number, string][]> = {};
    for (const e of incoming.get(n.id) ?? []) {
      const { port, index } = parseHandle(e.targetHandle);
      if (index === null) inputs[port] = e.source;
      else {
        lists[port] = lists[port] ?? [];
        lists[port].push([index, e.source]);
      }
    }
    for (const [port, items] of Object.entries(lists)) {
      inputs[port] = items.sort((a, b) => a[0] - b[0]).map(([, source]) => source);
    }
    const doc: GraphNodeDoc = { id: n.id, op: n.data.op, attrs: { ...n.data.attrs }, inputs };
    if (n.data.label) doc.label = n.data.label;
    return doc;
  });
  const layout: GraphDoc["layout"] = {};
  for (const n of graph.nodes) layout[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
  const doc: GraphDoc = { version: 1, nodes, run: { ...graph.run }, layout };
  if (graph.regions?.length) doc.regions = graph.regions.map((r) => ({ ...r, nodes: [...r.nodes] }));
  if (graph.title) doc.title = graph.title;
  if (graph.description) doc.description = graph.description;
  if (graph.meta && Object.keys(graph.meta).length) doc.meta = graph.meta;
  // The generated type is the schema as the server answers (every default filled in); a section
  // may leave defaults out, as the gallery's do (core/training.ts's TrainSection).
  if (graph.train) doc.train = graph.train as GraphDoc["train"];
  return doc;
}

/** Back from the API's document; nodes without a position get one of (0, 0) (lay them out after). */
export function fromDoc(doc: GraphDoc): EditorGraph {
  const nodes: EditorNode[] = doc.nodes.map((n) => ({
    id: n.id,
    type: "op",
    position: doc.layout?.[n.id] ? { x: doc.layout[n.id].x, y: doc.layout[n.id].y } : { x: 0, y: 0 },
    data: { op: n.op, attrs: { ...(n.attrs ?? {}) }, ...(n.label ? { label: n.label } : {}) },
  }));
  const edges: EditorEdge[] = [];
  for (const n of doc.nodes) {
    for (const [port, source] of Object.entries(n.inputs ?? {})) {
      if (Array.isArray(source)) {
        source.forEach((s, i) => {
          edges.push(makeEdge(s, n.id, handleId(port, i)));
        });
      } else edges.push(makeEdge(source, n.id, port));
    }
  }
  return {
    nodes,
    edges,
    run: { ...defaultRun(), ...(doc.run ?? {}) },
    regions: (doc.regions ?? []).map((r) => ({ ...r, nodes: [...r.nodes] })),
    title: doc.title ?? null,
    description: doc.description ?? null,
    meta: doc.meta ?? {},
    train: (doc.train as TrainSection | null | undefined) ?? null,
  };
}

/** True when `a` and `b` are bound to give the same document but for its layout: the same nodes
 * (ids, order, data objects), edges (ids, which name source, target and port, in order), run and
 * texts. Conservative: false only means "maybe different". Cheap enough for every drag frame. */
export function sameContent(a: EditorGraph, b: EditorGraph): boolean {
  if (
    a.run !== b.run ||
    a.regions !== b.regions ||
    a.title !== b.title ||
    a.description !== b.description ||
    a.meta !== b.meta ||
    (a.train ?? null) !== (b.train ?? null)
  )
    return false;
  if (a.nodes.length !== b.nodes.length || a.edges.length !== b.edges.length) return false;
  for (let i = 0; i < a.nodes.length; i++) {
    if (a.nodes[i].id !== b.nodes[i].id || a.nodes[i].data !== b.nodes[i].data) return false;
  }
  for (let i = 0; i < a.edges.length; i++) if (a.edges[i].id !== b.edges[i].id) return false;
  return true;
}

/** Parse a saved graph document, or throw why it is not one (bad JSON, or no list of nodes). */
export function parseGraphDoc(text: string): GraphDoc {
  const doc = JSON.parse(text) as GraphDoc;
  if (!doc || !Array.isArray(doc.nodes)) throw new Error("no list of nodes");
  return doc;
}

/** True when the document has a position for every node (else it needs an auto-layout). */
export const hasLayout = (doc: GraphDoc) => doc.nodes.every((n) => doc.layout?.[n.id]);

/** A fresh id from the op's name: matmul, matmul_2, ... */
export function freshId(graph: EditorGraph, base: string): string {
  const taken = new Set(graph.nodes.map((n) => n.id));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Rename a node everywhere: its edges and the run configuration follow. */
export function renameNode(graph: EditorGraph, from: string, to: string): EditorGraph {
  const rename = (id: string) => (id === from ? to : id);
  return {
    ...graph,
    nodes: graph.nodes.map((n) => (n.id === from ? { ...n, id: to } : n)),
    edges: graph.edges.map((e) =>
      e.source === from || e.target === from
        ? { ...makeEdge(rename(e.source), rename(e.target), e.targetHandle), selected: e.selected }
        : e,
    ),
    run: {
      ...graph.run,
      output: graph.run.output === from ? to : graph.run.output,
      wrt: graph.run.wrt ? graph.run.wrt.map(rename) : graph.run.wrt,
    },
    regions: graph.regions?.map((r) => (r.nodes.includes(from) ? { ...r, nodes: r.nodes.map(rename) } : r)),
    meta: renameInChecks(graph.meta, from, to),
  };
}

/** Remove nodes and every edge touching them; the run forgets them too. */
export function removeNodes(graph: EditorGraph, ids: Set<string>): EditorGraph {
  return {
    ...graph,
    nodes: graph.nodes.filter((n) => !ids.has(n.id)),
    edges: graph.edges.filter((e) => !ids.has(e.source) && !ids.has(e.target)),
    run: {
      ...graph.run,
      output: graph.run.output && ids.has(graph.run.output) ? null : graph.run.output,
      wrt: graph.run.wrt ? graph.run.wrt.filter((w) => !ids.has(w)) : graph.run.wrt,
    },
    regions: graph.regions
      ?.map((r) => ({ ...r, nodes: r.nodes.filter((n) => !ids.has(n)) }))
      .filter((r) => r.nodes.length > 0),
  };
}

/** A no_grad region of `ids`, which leave any region they were in (a node is in one at most);
 * regions left empty go. */
export function addRegion(graph: EditorGraph, ids: string[]): EditorGraph {
  const taken = new Set((graph.regions ?? []).map((r) => r.id));
  let n = 1;
  while (taken.has(`no_grad_${n}`)) n++;
  const chosen = new Set(ids);
  const others = (graph.regions ?? [])
    .map((r) => ({ ...r, nodes: r.nodes.filter((id) => !chosen.has(id)) }))
    .filter((r) => r.nodes.length > 0);
  return {
    ...graph,
    regions: [...others, { id: `no_grad_${n}`, kind: "no_grad", nodes: [...ids], label: null }],
  };
}

export function removeRegion(graph: EditorGraph, id: string): EditorGraph {
  return { ...graph, regions: (graph.regions ?? []).filter((r) => r.id !== id) };
}

/** Region `id` holding exactly `ids` now (a frame resized over them): they leave any other
 * region, and a region left empty, this one included, goes. */
export function setRegionNodes(graph: EditorGraph, id: string, ids: string[]): EditorGraph {
  const chosen = new Set(ids);
  const regions = (graph.regions ?? [])
    .map((r) =>
      r.id === id ? { ...r, nodes: [...ids] } : { ...r, nodes: r.nodes.filter((n) => !chosen.has(n)) },
    )
    .filter((r) => r.nodes.length > 0);
  return { ...graph, regions };
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The nodes whose centre lies in `rect` (flow coordinates), as a frame dragged over them takes
 * them in; a node not measured yet counts as a point. */
export function nodesInRect(
  nodes: { id: string; position: { x: number; y: number }; measured?: { width?: number; height?: number } }[],
  rect: Rect,
): string[] {
  return nodes
    .filter((n) => {
      const cx = n.position.x + (n.measured?.width ?? 0) / 2;
      const cy = n.position.y + (n.measured?.height ?? 0) / 2;
      return cx >= rect.x && cx <= rect.x + rect.width && cy >= rect.y && cy <= rect.y + rect.height;
    })
    .map((n) => n.id);
}

/** The region a node is in, if any. */
export function regionOf(graph: Pick<EditorGraph, "regions">, id: string): Region | undefined {
  return graph.regions?.find((r) => r.nodes.includes(id));
}

/** The nodes each node feeds, by id: used to show every use of a shared parameter. */
export function consumers(graph: EditorGraph, id: string): EditorEdge[] {
  return graph.edges.filter((e) => e.source === id);
}

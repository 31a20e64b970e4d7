// The backward graph beside the student's graph: React Flow nodes and edges laid out by dagre,
// as the editor's own graph is, and the colour that ties each autograd node to the node whose op
// created it. React-free, so that it is tested on its own.
import dagre from "@dagrejs/dagre";
import type { AutogradNode, BackwardGraph, GraphError, SavedTensor } from "../api/types";
import { shapeText } from "./tensor";

export const AG_W = 160;
const AG_HEAD = 46; // name and owner lines
const AG_LINE = 16; // one saved tensor
const AG_ERROR_LINE = 14; // one line of an error, about 27 characters at 11 px in the node's width
const AG_ERROR_CHARS = 27;

export interface AutogradNodeData extends Record<string, unknown> {
  node: AutogradNode;
  color: string;
  /** Where backward starts here: "q", "g.outputs"; empty when it is not a root. */
  roots: string[];
  /** Why the failed backward could not go through here: the errors that name this autograd node. */
  errors: string[];
}

export interface FlowNode {
  id: string;
  type: "autograd";
  position: { x: number; y: number };
  data: AutogradNodeData;
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  data: { slot: number };
}

export const flowId = (id: number) => `ag-${id}`;

/** One hue per node of the graph, in the order the run made them: neighbours in the order get
 * hues far apart (the golden angle), so that the nodes of one chain stay told apart. */
export function ownerColor(id: string | null | undefined, order: string[]): string {
  const i = id == null ? -1 : order.indexOf(id);
  if (i < 0) return "hsl(0 0% 55%)";
  return `hsl(${Math.round((i * 137.508) % 360)} 62% 42%)`;
}

/** "self: w1 [5, 5] freed", short enough for a node; savedTitle says it in full. */
export function savedText(s: SavedTensor): string {
  return `${s.name}: ${s.node ?? "its own"} ${shapeText(s.shape)}${s.state === "kept" ? "" : ` ${s.state}`}`;
}

/** The tooltip: what the tensor is, and what became of it. */
export function savedTitle(s: SavedTensor): string {
  const what = s.node ? `the value of ${s.node}` : "a tensor the op made itself";
  const state = {
    kept: "still kept: a further backward could use it",
    freed: "freed by the last backward (retain_graph=False): a second backward through here would fail",
    overwritten: "changed in place since it was saved: a backward through here fails",
  }[s.state];
  return `saved for backward as ${s.name}: ${what}, ${s.dtype} ${shapeText(s.shape)}; ${state}`;
}

/** The autograd graph as React Flow draws it: an edge from each autograd node to each of its
 * next_functions, the gradient's way; laid out top to bottom, the roots on top and the leaves'
 * AccumulateGrad at the bottom (a pane beside the canvas is taller than it is wide, and a long
 * chain, blah's k = 3, then stays readable). */
export function backwardFlow(
  graph: BackwardGraph,
  order: string[],
  errors: GraphError[] = [],
): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 16, ranksep: 28 });
  g.setDefaultEdgeLabel(() => ({}));
  const errorsOf = new Map(graph.nodes.map((n) => [n.id, autogradErrors(n, errors)]));
  const errorLines = (n: AutogradNode) =>
    (errorsOf.get(n.id) ?? []).reduce((sum, m) => sum + Math.ceil(m.length / AG_ERROR_CHARS), 0);
  const height = (n: AutogradNode) => AG_HEAD + AG_LINE * n.saved.length + AG_ERROR_LINE * errorLines(n);
  for (const n of graph.nodes) g.setNode(flowId(n.id), { width: AG_W, height: height(n) });
  const edges: FlowEdge[] = [];
  for (const n of graph.nodes) {
    for (const e of n.next) {
      g.setEdge(flowId(n.id), flowId(e.to));
      edges.push({
        id: `${flowId(n.id)}-${e.slot}`,
        source: flowId(n.id),
        target: flowId(e.to),
        data: { slot: e.slot },
      });
    }
  }
  dagre.layout(g);
  const rootsOf = new Map<number, string[]>();
  for (const r of graph.roots) {
    const name = r.port ? `${r.node}.${r.port}` : r.node;
    rootsOf.set(r.to, [...(rootsOf.get(r.to) ?? []), name]);
  }
  const nodes = graph.nodes.map((n): FlowNode => {
    const p = g.node(flowId(n.id));
    return {
      id: flowId(n.id),
      type: "autograd",
      position: { x: Math.round(p.x - AG_W / 2), y: Math.round(p.y - height(n) / 2) },
      data: {
        node: n,
        color: ownerColor(n.node, order),
        roots: rootsOf.get(n.id) ?? [],
        errors: errorsOf.get(n.id) ?? [],
      },
    };
  });
  return { nodes, edges };
}

/** The errors of a failed backward that are about this autograd node: those located on the node
 * whose op made it that name it (GraphError.autograd: PyTorch's names). */
export function autogradErrors(node: AutogradNode, errors: GraphError[]): string[] {
  return errors
    .filter((e) => e.node != null && e.node === node.node && e.autograd?.includes(node.name))
    .map((e) => e.message);
}

/** The heading over the view: how many autograd nodes, and from where backward starts. */
export function backwardSummary(graph: BackwardGraph): string {
  if (!graph.roots.length)
    return "No backward graph: nothing is differentiated (choose a loss, or add a grad node).";
  const from = [...new Set(graph.roots.map((r) => (r.port ? `${r.node}.${r.port}` : r.node)))].join(", ");
  const n = graph.nodes.length;
  return `${n} autograd node${n === 1 ? "" : "s"}, from ${from}`;
}

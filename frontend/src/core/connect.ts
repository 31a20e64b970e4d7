// Connection rules: an input handle takes one edge, no self loops, no cycles.
import type { EditorGraph } from "./graph";

export interface Connection {
  source: string | null;
  target: string | null;
  targetHandle?: string | null;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** True when `to` can be reached from `from` following edges. */
export function reaches(graph: EditorGraph, from: string, to: string): boolean {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop() as string;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

export function checkConnection(graph: EditorGraph, c: Connection): Verdict {
  if (!c.source || !c.target || !c.targetHandle)
    return { ok: false, reason: "Connect an output to an input port." };
  if (c.source === c.target) return { ok: false, reason: "A node cannot feed itself." };
  if (graph.edges.some((e) => e.target === c.target && e.targetHandle === c.targetHandle)) {
    return {
      ok: false,
      reason: `Port ${c.targetHandle} of ${c.target} already has an input: delete that edge first.`,
    };
  }
  if (reaches(graph, c.target, c.source)) {
    return { ok: false, reason: `That edge would close a cycle: ${c.target} already feeds ${c.source}.` };
  }
  return { ok: true };
}

import { describe, expect, it } from "vitest";
import { type EditorGraph, emptyGraph } from "./graph";
import { autoLayout, NODE_H } from "./layout";

const node = (id: string, height?: number) => ({
  id,
  type: "op" as const,
  position: { x: 0, y: 0 },
  data: { op: "parameter", attrs: {} },
  ...(height ? { measured: { width: 180, height } } : {}),
});
const edge = (source: string, target: string) => ({
  id: `${source}->${target}.input`,
  source,
  target,
  sourceHandle: "out" as const,
  targetHandle: "input",
});

/** Whether two laid-out nodes' boxes overlap. */
function overlap(g: EditorGraph, a: string, b: string): boolean {
  const box = (id: string) => {
    const n = g.nodes.find((m) => m.id === id);
    if (!n) throw new Error(id);
    return { x: n.position.x, y: n.position.y, w: n.measured?.width ?? 180, h: n.measured?.height ?? NODE_H };
  };
  const [p, q] = [box(a), box(b)];
  return p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
}

describe("auto-layout", () => {
  it("leaves room for a node as tall as its preview drew it", () => {
    // three sources into one op: the sources share a column, one of them 300 px tall (a vector
    // printed as numbers); with the default height for all they would overlap
    const base = emptyGraph();
    const g: EditorGraph = {
      ...base,
      nodes: [node("b", 110), node("a", 300), node("c", 110), node("op", 110)],
      edges: [edge("b", "op"), edge("a", "op"), edge("c", "op")],
    };
    const laid = autoLayout(g);
    for (const [p, q] of [
      ["a", "b"],
      ["a", "c"],
      ["b", "c"],
    ])
      expect(overlap(laid, p, q)).toBe(false);
    // the same graph laid out as if unmeasured, then drawn with a 300 px tall: it covers a neighbour
    const unmeasured = autoLayout({ ...g, nodes: g.nodes.map(({ measured: _, ...n }) => n) });
    const drawn = {
      ...unmeasured,
      nodes: unmeasured.nodes.map((n) =>
        n.id === "a" ? { ...n, measured: { width: 180, height: 300 } } : n,
      ),
    };
    expect(["b", "c"].some((id) => overlap(drawn, "a", id))).toBe(true);
  });
});

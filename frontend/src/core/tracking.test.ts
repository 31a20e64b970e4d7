import { describe, expect, it } from "vitest";
import type { NodeMeta } from "../api/types";
import type { EditorGraph } from "./graph";
import { trackingOf, whyTracking } from "./tracking";

const node = (id: string, op: string) => ({
  id,
  type: "op" as const,
  position: { x: 0, y: 0 },
  data: { op, attrs: {} },
});
const edge = (source: string, target: string, port: string) => ({
  id: `${source}->${target}.${port}`,
  source,
  target,
  sourceHandle: "out" as const,
  targetHandle: port,
});
// The 4.1 DAG's start, a detach, an int64 input and a derivative without create_graph.
const GRAPH: EditorGraph = {
  nodes: [
    node("w1", "parameter"),
    node("x", "input"),
    node("x1", "matmul"),
    node("x2", "add"),
    node("d", "detach"),
    node("labels", "input"),
    node("g", "grad"),
  ],
  edges: [
    edge("w1", "x1", "input"),
    edge("x", "x1", "other"),
    edge("x1", "x2", "input"),
    edge("x", "x2", "other"),
  ],
  run: { seed: 0, device: "cpu", dtype: "float32", backward_passes: 1, zero_grad: false, training: true },
};
const m = (requires_grad: boolean, is_leaf: boolean, dtype = "float32"): NodeMeta => ({
  requires_grad,
  is_leaf,
  dtype,
  shape: [5],
});
const METAS = {
  w1: m(true, true),
  x: m(false, true),
  x1: m(true, false),
  x2: m(true, false),
  d: m(false, true),
  labels: m(false, true, "int64"),
  g: m(false, true),
};
const OPS = {
  parameter: { source: true, differentiable: false },
  input: { source: true, differentiable: false },
  matmul: { source: false, differentiable: true },
  add: { source: false, differentiable: true },
  detach: { source: false, differentiable: false },
  grad: { source: false, differentiable: true },
};

describe("how requires_grad flows", () => {
  it("tells leaves, tracked tensors and untracked ones apart", () => {
    expect(trackingOf(METAS.w1)).toBe("leaf");
    expect(trackingOf(METAS.x1)).toBe("tracked");
    expect(trackingOf(METAS.x)).toBe("untracked");
    expect(trackingOf(undefined)).toBeNull();
  });

  it("says why, in the user's terms", () => {
    const why = (id: string) => whyTracking(id, GRAPH, METAS, OPS);
    expect(why("x1")).toBe(
      "x1 requires grad because its input w1 (a parameter) does: autograd records matmul to differentiate it.",
    );
    expect(why("x2")).toBe(
      "x2 requires grad because its input x1 does: autograd records add to differentiate it.",
    );
    expect(why("x")).toBe(
      "x does not require grad: requires_grad is off on this input (turn it on to get a gradient).",
    );
    expect(why("w1")).toMatch(/^w1 requires grad: it is a parameter with requires_grad on, a leaf/);
    expect(why("labels")).toBe(
      "labels cannot require grad: int64 tensors cannot (only floating point ones can).",
    );
    expect(why("d")).toBe("d does not require grad: cut by detach, so no gradient flows back through it.");
    expect(why("g")).toMatch(/unless its grad node's create_graph is on/);
    expect(why("nowhere")).toBeNull();
  });

  it("says when a node is computed under no_grad", () => {
    const graph = {
      ...GRAPH,
      regions: [{ id: "no_grad_1", kind: "no_grad" as const, nodes: ["x2", "x"], label: null }],
    };
    expect(whyTracking("x2", graph, { ...METAS, x2: m(false, true) }, OPS)).toBe(
      "x2 does not require grad: computed under no_grad (region no_grad_1), so autograd records nothing for it.",
    );
    // A source in a region is made as outside one: its own requires_grad decides.
    expect(whyTracking("x", graph, METAS, OPS)).toMatch(/requires_grad is off on this input/);
  });

  it("says none of the inputs requires grad when none does", () => {
    const graph = { ...GRAPH, edges: [edge("x", "x2", "input")] };
    expect(whyTracking("x2", graph, { ...METAS, x2: m(false, true) }, OPS)).toBe(
      "x2 does not require grad: none of its inputs requires grad.",
    );
  });
});

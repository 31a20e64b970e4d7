import { describe, expect, it } from "vitest";
import type { NodeMeta } from "../api/types";
import { emptyGraph } from "../core/graph";
import { guessLoss } from "./run";

const node = (id: string, op: string) => ({
  id,
  type: "op" as const,
  position: { x: 0, y: 0 },
  data: { op, attrs: {} },
});
const meta = (shape: number[], requires_grad: boolean): NodeMeta => ({
  shape,
  requires_grad,
  is_leaf: false,
  dtype: "float32",
});

describe("guessLoss", () => {
  it("takes the last scalar sink that requires grad", () => {
    const graph = {
      ...emptyGraph(),
      nodes: [node("x", "parameter"), node("y", "pow"), node("g", "grad"), node("g2", "grad")],
      edges: [
        { id: "x->y.input", source: "x", target: "y", sourceHandle: "out" as const, targetHandle: "input" },
        {
          id: "y->g.outputs",
          source: "y",
          target: "g",
          sourceHandle: "out" as const,
          targetHandle: "outputs",
        },
        {
          id: "g->g2.outputs",
          source: "g",
          target: "g2",
          sourceHandle: "out" as const,
          targetHandle: "outputs",
        },
      ],
    };
    // g2, a second derivative taken without create_graph, is a scalar sink that nothing tracks.
    const metas = { x: meta([], true), y: meta([], true), g: meta([], true), g2: meta([], false) };
    expect(guessLoss(graph, metas)).toBeNull();
    expect(guessLoss(graph, { ...metas, g2: meta([], true) })).toBe("g2");
    expect(guessLoss(graph, { ...metas, g2: meta([3], true) })).toBeNull();
  });
});

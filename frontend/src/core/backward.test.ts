import { describe, expect, it } from "vitest";
import type { BackwardGraph, GraphError, SavedTensor } from "../api/types";
import { autogradErrors, backwardFlow, backwardSummary, ownerColor, savedText, savedTitle } from "./backward";

// The backward graph of nn.Linear (dagrad eval linear_batch --backward-graph).
const LINEAR: BackwardGraph = {
  nodes: [
    {
      id: 0,
      name: "AddmmBackward0",
      node: "y",
      next: [
        { to: 1, slot: 0 },
        { to: 2, slot: 2 },
      ],
      saved: [{ name: "mat1", shape: [523, 10], dtype: "float32", node: "x", state: "freed" }],
    },
    { id: 1, name: "AccumulateGrad", node: "bias", next: [], saved: [] },
    { id: 2, name: "TBackward0", node: "y", next: [{ to: 3, slot: 0 }], saved: [] },
    { id: 3, name: "AccumulateGrad", node: "weight", next: [], saved: [] },
  ],
  roots: [{ node: "y", port: null, to: 0 }],
};
const ORDER = ["weight", "bias", "x", "y"];

describe("backwardFlow", () => {
  it("draws every autograd node and an edge to each of its next_functions", () => {
    const { nodes, edges } = backwardFlow(LINEAR, ORDER);
    expect(nodes.map((n) => n.id)).toEqual(["ag-0", "ag-1", "ag-2", "ag-3"]);
    expect(edges.map((e) => [e.source, e.target, e.data.slot])).toEqual([
      ["ag-0", "ag-1", 0],
      ["ag-0", "ag-2", 2],
      ["ag-2", "ag-3", 0],
    ]);
    expect(new Set(edges.map((e) => e.id)).size).toBe(edges.length);
  });

  it("puts the root on top and the leaves' AccumulateGrad below what feeds them", () => {
    const y = Object.fromEntries(backwardFlow(LINEAR, ORDER).nodes.map((n) => [n.id, n.position.y]));
    expect(y["ag-0"]).toBeLessThan(y["ag-2"]);
    expect(y["ag-2"]).toBeLessThan(y["ag-3"]);
    expect(y["ag-0"]).toBeLessThan(y["ag-1"]);
  });

  it("colours each autograd node as the node that made it, and marks the roots", () => {
    const { nodes } = backwardFlow(LINEAR, ORDER);
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n.data]));
    expect(byId["ag-0"].color).toBe(ownerColor("y", ORDER));
    expect(byId["ag-2"].color).toBe(byId["ag-0"].color); // linear made both
    expect(byId["ag-3"].color).toBe(ownerColor("weight", ORDER));
    expect(byId["ag-0"].roots).toEqual(["y"]);
    expect(byId["ag-2"].roots).toEqual([]);
  });
});

describe("ownerColor", () => {
  it("gives neighbours in the run's order different hues, and grey to an unknown node", () => {
    const colours = ORDER.map((id) => ownerColor(id, ORDER));
    expect(new Set(colours).size).toBe(ORDER.length);
    expect(ownerColor(null, ORDER)).toBe("hsl(0 0% 55%)");
    expect(ownerColor("nowhere", ORDER)).toBe("hsl(0 0% 55%)");
  });
});

describe("the words", () => {
  it("say what a saved tensor is and what became of it", () => {
    expect(savedText(LINEAR.nodes[0].saved[0])).toBe("mat1: x [523, 10] freed");
    const overwritten: SavedTensor = {
      name: "result",
      shape: [4],
      dtype: "float32",
      node: "s",
      state: "overwritten",
    };
    expect(savedText(overwritten)).toBe("result: s [4] overwritten");
    expect(savedTitle(overwritten)).toBe(
      "saved for backward as result: the value of s, float32 [4]; changed in place since it was saved: a backward through here fails",
    );
    const kept: SavedTensor = { name: "self", shape: [3], dtype: "float32", node: null, state: "kept" };
    expect(savedText(kept)).toBe("self: its own [3]");
    expect(savedTitle(kept)).toMatch(/a tensor the op made itself, float32 \[3\]; still kept/);
  });

  it("sum the graph up, and say when there is none", () => {
    expect(backwardSummary(LINEAR)).toBe("4 autograd nodes, from y");
    const derivative: BackwardGraph = {
      nodes: LINEAR.nodes,
      roots: [
        { node: "g_sum", port: null, to: 0 },
        { node: "g", port: "outputs", to: 2 },
      ],
    };
    expect(backwardSummary(derivative)).toBe("4 autograd nodes, from g_sum, g.outputs");
    expect(backwardSummary({ nodes: [], roots: [] })).toMatch(/nothing is differentiated/);
  });
});

describe("autogradErrors", () => {
  const freed = (node: string, autograd: string[] | null): GraphError => ({
    node,
    port: null,
    attribute: null,
    code: "runtime",
    message: `pass 2 needs what ${autograd?.join(" and ")} of ${node} saved`,
    autograd,
  });

  it("puts an error on the autograd nodes it names, of the node it is located on", () => {
    const errors = [freed("y", ["AddmmBackward0"]), freed("weight", ["AddmmBackward0"]), freed("y", null)];
    const [addmm, bias, t] = LINEAR.nodes;
    expect(autogradErrors(addmm, errors)).toEqual(["pass 2 needs what AddmmBackward0 of y saved"]);
    expect(autogradErrors(t, errors)).toEqual([]); // y's too, but not named
    expect(autogradErrors(bias, errors)).toEqual([]);
  });

  it("makes room for them in the layout", () => {
    const plain = backwardFlow(LINEAR, ORDER).nodes;
    const failed = backwardFlow(LINEAR, ORDER, [freed("y", ["AddmmBackward0"])]).nodes;
    expect(failed[0].data.errors).toHaveLength(1);
    expect(failed[2].position.y).toBeGreaterThan(plain[2].position.y);
  });
});

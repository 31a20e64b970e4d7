import { describe, expect, it } from "vitest";
import type { GraphDoc } from "../api/types";
import { copySelection, paste } from "./clipboard";
import { diverging, divergingInto } from "./colormap";
import { checkConnection } from "./connect";
import {
  addRegion,
  emptyGraph,
  fromDoc,
  makeEdge,
  nodesInRect,
  parseGraphDoc,
  regionOf,
  removeNodes,
  removeRegion,
  renameNode,
  sameContent,
  setRegionNodes,
  toDoc,
} from "./graph";
import { emptyHistory, record, redo, undo } from "./history";
import { inputHandles, parseHandle } from "./ports";
import { fields, parseInput, validateAttrs } from "./schema";
import { decodeFragment, encodeFragment } from "./share";
import { asMaps, decode, hoverText, lineText, unravel } from "./tensor";

const DAG: GraphDoc = {
  version: 1,
  nodes: [
    { id: "w1", op: "parameter", attrs: { shape: [5, 5], init: "uniform" }, inputs: {} },
    { id: "w2", op: "parameter", attrs: { shape: [5, 5], init: "uniform" }, inputs: {} },
    { id: "x", op: "input", attrs: { shape: [5] }, inputs: {} },
    { id: "x1", op: "matmul", attrs: {}, inputs: { input: "w1", other: "x" } },
    { id: "w2x1", op: "matmul", attrs: {}, inputs: { input: "w2", other: "x1" } },
    { id: "x2", op: "add", attrs: {}, inputs: { input: "x", other: "w2x1" } },
    { id: "s", op: "add", attrs: {}, inputs: { input: "x1", other: "x2" } },
    { id: "x3", op: "matmul", attrs: {}, inputs: { input: "w1", other: "s" } },
    { id: "q", op: "norm", attrs: {}, inputs: { input: "x3" } },
    { id: "c", op: "cat", attrs: { dim: 0 }, inputs: { tensors: ["x", "x1", "x"] } },
  ],
  run: {
    seed: 3,
    device: "cpu",
    dtype: "float64",
    output: "q",
    wrt: ["w1"],
    grad_output: null,
    backward_passes: 1,
    retain_graph: null,
    zero_grad: false,
    training: true,
  },
  layout: Object.fromEntries(
    ["w1", "w2", "x", "x1", "w2x1", "x2", "s", "x3", "q", "c"].map((id, i) => [id, { x: i * 10, y: i }]),
  ),
};

describe("graph <-> JSON", () => {
  it("round-trips the 4.1 DAG with a variadic port, layout and run", () => {
    const back = toDoc(fromDoc(DAG));
    expect(back.nodes).toEqual(DAG.nodes);
    expect(back.layout).toEqual(DAG.layout);
    expect(back.run).toEqual(DAG.run);
  });
  it("keeps list ports in handle order", () => {
    const g = fromDoc(DAG);
    expect(g.edges.filter((e) => e.target === "c").map((e) => e.targetHandle)).toEqual([
      "tensors.0",
      "tensors.1",
      "tensors.2",
    ]);
  });
  it("renames a node everywhere", () => {
    const g = renameNode(fromDoc(DAG), "w1", "W");
    const doc = toDoc(g);
    expect(doc.nodes.find((n) => n.id === "x3")?.inputs).toEqual({ input: "W", other: "s" });
    expect(doc.run?.wrt).toEqual(["W"]);
  });
  it("gathers each node's inputs whatever the order of the edges", () => {
    const g = fromDoc(DAG);
    expect(toDoc({ ...g, edges: [...g.edges].reverse() }).nodes).toEqual(DAG.nodes);
  });
  it("tells moves and selection apart from changes of content", () => {
    const g = fromDoc(DAG);
    const moved = {
      ...g,
      nodes: g.nodes.map((n) => ({ ...n, position: { x: n.position.x + 5, y: 0 }, selected: true })),
      edges: g.edges.map((e) => ({ ...e, selected: true })),
    };
    expect(sameContent(g, moved)).toBe(true);
    const q = g.nodes.findIndex((n) => n.id === "q");
    const attrs = g.nodes.map((n, i) => (i === q ? { ...n, data: { ...n.data, attrs: { p: 1 } } } : n));
    expect(sameContent(g, { ...g, nodes: attrs })).toBe(false);
    expect(sameContent(g, renameNode(g, "q", "Q"))).toBe(false);
    expect(sameContent(g, { ...g, edges: g.edges.slice(1) })).toBe(false);
    expect(sameContent(g, { ...g, run: { ...g.run, seed: 4 } })).toBe(false);
    expect(sameContent(g, { ...g, title: "t" })).toBe(false);
  });
  it("parses a graph document, or says why not", () => {
    expect(parseGraphDoc(JSON.stringify(DAG))).toEqual(DAG);
    expect(() => parseGraphDoc("{")).toThrow(SyntaxError);
    expect(() => parseGraphDoc("null")).toThrow("no list of nodes");
    expect(() => parseGraphDoc('{"nodes": {}}')).toThrow("no list of nodes");
  });
  it("removes nodes with their edges and from the run", () => {
    const g = removeNodes(fromDoc(DAG), new Set(["q", "w1"]));
    expect(g.edges.some((e) => e.source === "w1" || e.target === "q")).toBe(false);
    expect(g.run.output).toBeNull();
    expect(g.run.wrt).toEqual([]);
  });
});

describe("connection rules", () => {
  const g = fromDoc(DAG);
  it("takes one edge per input port", () => {
    expect(checkConnection(g, { source: "w2", target: "x1", targetHandle: "input" }).ok).toBe(false);
  });
  it("refuses a cycle and a self loop", () => {
    const open = { ...g, edges: g.edges.filter((e) => !(e.target === "x1" && e.targetHandle === "input")) };
    const v = checkConnection(open, { source: "q", target: "x1", targetHandle: "input" });
    expect(v.ok).toBe(false);
    expect(v.ok ? "" : v.reason).toMatch(/cycle/);
    expect(checkConnection(emptyGraph(), { source: "a", target: "a", targetHandle: "input" }).ok).toBe(false);
  });
  it("accepts a free port", () => {
    const open = { ...g, edges: g.edges.filter((e) => e.id !== makeEdge("w1", "x1", "input").id) };
    expect(checkConnection(open, { source: "w2", target: "x1", targetHandle: "input" }).ok).toBe(true);
  });
  it("offers one free handle on a variadic port", () => {
    const port = { name: "tensors", doc: "", optional: false, variadic: true };
    expect(inputHandles([port], ["tensors.0", "tensors.1"]).map((h) => h.id)).toEqual([
      "tensors.0",
      "tensors.1",
      "tensors.2",
    ]);
    expect(parseHandle("input")).toEqual({ port: "input", index: null });
  });
});

describe("undo history", () => {
  it("undoes and redoes, and a new edit clears the future", () => {
    let h = emptyHistory<number>();
    h = record(h, 1); // 1 -> 2
    h = record(h, 2); // 2 -> 3
    const u1 = undo(h, 3);
    expect(u1?.state).toBe(2);
    const u2 = undo(u1?.history ?? h, 2);
    expect(u2?.state).toBe(1);
    const r = redo(u2?.history ?? h, 1);
    expect(r?.state).toBe(2);
    expect(record(r?.history ?? h, 2).future).toEqual([]);
    expect(undo(emptyHistory<number>(), 0)).toBeNull();
  });
});

describe("clipboard", () => {
  it("pastes the selection with fresh ids and inner edges", () => {
    const g = fromDoc(DAG);
    g.nodes = g.nodes.map((n) => ({ ...n, selected: ["w1", "x", "x1"].includes(n.id) }));
    const clip = copySelection(g);
    expect(clip?.edges).toHaveLength(2);
    const p = paste(g, clip ?? { nodes: [], edges: [] });
    expect(p.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["w1_2", "x_2", "x1_2"]);
    expect(
      p.edges
        .filter((e) => e.target === "x1_2")
        .map((e) => e.source)
        .sort(),
    ).toEqual(["w1_2", "x_2"]);
  });
});

describe("attribute schema", () => {
  const schema = {
    properties: {
      shape: { anyOf: [{ type: "array", items: { type: "integer" } }, { type: "null" }], default: null },
      dim: { type: "integer", default: -1 },
      std: { type: "number", minimum: 0, default: 1 },
      init: { type: "string", enum: ["normal", "zeros"], default: "normal" },
    },
  };
  it("finds the field kinds", () => {
    expect(fields(schema).map((f) => f.kind)).toEqual(["json", "integer", "number", "enum"]);
  });
  it("validates values", () => {
    expect(validateAttrs(schema, { shape: [5, 5], dim: 0, std: 2 })).toEqual({});
    expect(
      Object.keys(validateAttrs(schema, { shape: [5.5], dim: 1.5, std: -1, init: "x", nope: 1 })),
    ).toEqual(["shape", "dim", "std", "init", "nope"]);
  });
  it("reads typed text", () => {
    const [shape] = fields(schema);
    expect(parseInput(shape, "5, 5")).toEqual([5, 5]);
    expect(parseInput(shape, "[2, 3]")).toEqual([2, 3]);
    expect(parseInput(shape, "")).toBeNull();
    expect(parseInput(shape, "5")).toEqual([5]);
  });
});

describe("no_grad regions", () => {
  it("are made from a selection, leave other regions, and follow renames and removals", () => {
    const g0 = fromDoc(DAG);
    const g1 = addRegion(g0, ["x1", "x2"]);
    expect(g1.regions).toEqual([{ id: "no_grad_1", kind: "no_grad", nodes: ["x1", "x2"], label: null }]);
    const g2 = addRegion(g1, ["x2", "s"]); // x2 moves to the new region
    expect(g2.regions?.map((r) => [r.id, r.nodes])).toEqual([
      ["no_grad_1", ["x1"]],
      ["no_grad_2", ["x2", "s"]],
    ]);
    expect(regionOf(g2, "x2")?.id).toBe("no_grad_2");
    expect(regionOf(renameNode(g2, "x1", "y1"), "y1")?.id).toBe("no_grad_1");
    expect(removeNodes(g2, new Set(["x1"])).regions?.map((r) => r.id)).toEqual(["no_grad_2"]);
    expect(removeRegion(g2, "no_grad_2").regions?.map((r) => r.id)).toEqual(["no_grad_1"]);
    // They travel with the document, and come back from it.
    expect(toDoc(g2).regions).toEqual(g2.regions);
    expect(fromDoc(toDoc(g2)).regions).toEqual(g2.regions);
    expect(toDoc(g0).regions).toBeUndefined();
  });

  it("take in the nodes a resized frame covers, and go when it covers none", () => {
    const g1 = addRegion(addRegion(fromDoc(DAG), ["x1"]), ["x2"]);
    const g2 = setRegionNodes(g1, "no_grad_1", ["x1", "x2"]); // x2 leaves no_grad_2, which goes
    expect(g2.regions?.map((r) => [r.id, r.nodes])).toEqual([["no_grad_1", ["x1", "x2"]]]);
    expect(setRegionNodes(g2, "no_grad_1", []).regions).toEqual([]);
    const nodes = [
      { id: "a", position: { x: 0, y: 0 }, measured: { width: 100, height: 40 } }, // centre (50, 20)
      { id: "b", position: { x: 200, y: 0 }, measured: { width: 100, height: 40 } }, // (250, 20)
      { id: "c", position: { x: 60, y: 60 } }, // not measured yet: the point (60, 60)
    ];
    expect(nodesInRect(nodes, { x: 0, y: 0, width: 240, height: 100 })).toEqual(["a", "c"]);
    expect(nodesInRect(nodes, { x: 40, y: 10, width: 300, height: 20 })).toEqual(["a", "b"]);
    expect(nodesInRect(nodes, { x: 51, y: 0, width: 100, height: 100 })).toEqual(["c"]);
  });
});

describe("tensors and sharing", () => {
  it("decodes base64 float32 little-endian", () => {
    const f = new Float32Array([1.5, -2, 3]);
    const b64 = btoa(String.fromCharCode(...new Uint8Array(f.buffer)));
    const stats = { min: -2, max: 3, mean: 0, std: 0, norm: 0, nan: 0, inf: 0 };
    const t = decode({
      shape: [3],
      dtype: "float32",
      numel: 3,
      stats,
      truncated: false,
      data: { encoding: "base64", dtype: "float32", b64 },
    });
    expect(Array.from(t?.data ?? [])).toEqual([1.5, -2, 3]);
  });
  it("writes a small tensor's numbers on one line, a large one's shape and statistics", () => {
    const stats = { min: 12, max: 75, mean: 38, std: 33, norm: 81.6, nan: 0, inf: 0 };
    const small = {
      shape: [3],
      dtype: "float32",
      numel: 3,
      stats,
      truncated: false,
      data: { encoding: "list" as const, dtype: "float32" as const, values: [27, 12, 75] },
    };
    expect(lineText(small)).toBe("(27, 12, 75)");
    expect(lineText({ ...small, shape: [], numel: 1, data: { ...small.data, values: 4.5 } })).toBe("4.5");
    expect(lineText(small, 2)).toBe("[3] · mean 38 · ‖·‖ 81.6");
    expect(lineText({ ...small, data: null, truncated: true })).toBe("[3] · mean 38 · ‖·‖ 81.6");
  });
  it("lays 4-D tensors out as a grid of maps", () => {
    expect(asMaps([2, 3, 4, 5])).toEqual({ gridRows: 2, gridCols: 3, count: 6, h: 4, w: 5 });
    expect(asMaps([32, 1, 5, 5])).toMatchObject({ gridRows: 6, gridCols: 6, count: 32 });
    expect(unravel(23, [2, 3, 4])).toEqual([1, 2, 3]);
  });
  it("round-trips a graph through the URL fragment", () => {
    expect(decodeFragment(`#${encodeFragment(DAG)}`)).toEqual(DAG);
    expect(decodeFragment("#g=garbage")).toBeNull();
  });
});

describe("colour map", () => {
  it("fills pixels with the colours of the diverging map, white at zero", () => {
    const px = new Uint8ClampedArray(16);
    const values = [-2, 0, 1, Number.NaN];
    values.forEach((v, i) => {
      divergingInto(px, i * 4, v, 2);
    });
    expect(Array.from(px)).toEqual([
      33, 102, 172, 255, 247, 247, 247, 255, 213, 136, 145, 255, 150, 150, 150, 255,
    ]);
  });
  it("gives the same colours as RGB triples", () => {
    expect(diverging(-2, 2)).toEqual([33, 102, 172]);
    expect(diverging(0, 2)).toEqual([247, 247, 247]);
    expect(diverging(1, 2)).toEqual([213, 136, 145]);
    expect(diverging(Number.NaN, 2)).toEqual([150, 150, 150]);
    expect(diverging(5, 0)).toEqual([247, 247, 247]);
  });
});

describe("hovering a heatmap", () => {
  it("says the element's index and its value to 6 digits, not every digit of a double", () => {
    expect(hoverText(5, [2, 3], 4.070731163024902)).toBe("[1, 2] = 4.07073");
    expect(hoverText(0, [4], -0.000123456789)).toBe("[0] = -1.23457e-4");
    expect(hoverText(3, [4], Number.NaN)).toBe("[3] = NaN");
  });
});

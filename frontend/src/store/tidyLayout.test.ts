import type { NodeChange } from "@xyflow/react";
import { describe, expect, it } from "vitest";
import type { GraphDoc } from "../api/types";
import type { EditorNode } from "../core/graph";
import { overlapping } from "../core/layout";
import { useGraph } from "./graphStore";

// Three sources into one op: dagre puts the sources in one column, 110 px tall each by default.
const doc = {
  version: 1,
  nodes: [
    { id: "a", op: "parameter", attrs: { shape: [2] }, inputs: {} },
    { id: "b", op: "parameter", attrs: { shape: [16] }, inputs: {} },
    { id: "c", op: "parameter", attrs: { shape: [2] }, inputs: {} },
    { id: "s", op: "stack", attrs: {}, inputs: { tensors: ["a", "b", "c"] } },
  ],
  run: {},
} as unknown as GraphDoc;

/** What the canvas reports once it has drawn the nodes: b printed its 16 numbers, 320 px tall. */
const drawn = (tall: string): NodeChange<EditorNode>[] =>
  useGraph.getState().graph.nodes.map((n) => ({
    id: n.id,
    type: "dimensions",
    dimensions: { width: 180, height: n.id === tall ? 320 : 110 },
  }));

const position = (id: string) => useGraph.getState().graph.nodes.find((n) => n.id === id)?.position;

describe("a graph laid out automatically stays tidy as its nodes grow", () => {
  it("is laid out again with the drawn sizes when one node comes to cover another", () => {
    useGraph.getState().loadDoc(doc);
    expect(useGraph.getState().tidy).toBe(true);
    const history = useGraph.getState().history;
    useGraph.getState().onNodesChange(drawn("b"));
    const { graph } = useGraph.getState();
    expect(graph.nodes.find((n) => n.id === "b")?.measured?.height).toBe(320);
    expect(overlapping(graph)).toBe(false);
    expect(useGraph.getState().history).toBe(history); // not an edit to undo
  });

  it("leaves a graph the user arranged where they put it", () => {
    useGraph.getState().loadDoc(doc);
    useGraph
      .getState()
      .onNodesChange([{ id: "a", type: "position", position: { x: 500, y: 500 }, dragging: true }]);
    expect(useGraph.getState().tidy).toBe(false);
    const placed = useGraph.getState().graph.nodes.map((n) => n.position);
    // b grows over its neighbour in the column; the user placed a node: nothing moves
    useGraph.getState().onNodesChange(drawn("b"));
    expect(useGraph.getState().graph.nodes.map((n) => n.position)).toEqual(placed);
    expect(position("a")).toEqual({ x: 500, y: 500 });
    // Auto-layout, pressed, arranges it with the drawn sizes, and keeps it tidy from then on
    useGraph.getState().layout();
    expect(useGraph.getState().tidy).toBe(true);
    expect(overlapping(useGraph.getState().graph)).toBe(false);
  });

  it("does not move nodes that grow without covering any other", () => {
    useGraph.getState().loadDoc(doc);
    const before = useGraph.getState().graph.nodes.map((n) => n.position);
    useGraph.getState().onNodesChange(drawn("none"));
    expect(useGraph.getState().graph.nodes.map((n) => n.position)).toEqual(before);
  });
});

import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { BackwardGraph, GraphError, NodeMeta } from "../api/types";
import { errorsOf, shownBackward, useResults } from "./resultsStore";

const error = (node: string, message: string): GraphError => ({
  node,
  port: null,
  attribute: null,
  code: "runtime",
  message,
  autograd: null,
});

describe("errorsOf", () => {
  it("gives a node's errors once, when validation and the run both found them", () => {
    const freed = error("u", "backward pass 2 failed");
    const state = {
      validationErrors: [freed, error("x_pow3", "pass 2 needs what PowBackward0 (self) saved")],
      runErrors: [{ ...freed }, error("u", "another one")],
    };
    expect(errorsOf(state, "u").map((e) => e.message)).toEqual(["backward pass 2 failed", "another one"]);
    expect(errorsOf(state, "x_pow3")).toHaveLength(1);
    expect(errorsOf(state, "nobody")).toEqual([]);
  });
});

describe("a run that failed in backward", () => {
  const graph: BackwardGraph = {
    nodes: [
      {
        id: 0,
        name: "PowBackward0",
        node: "x_pow3",
        next: [{ to: 1, slot: 0 }],
        saved: [{ name: "self", shape: [3], dtype: "float32", node: "x", state: "freed" }],
      },
      { id: 1, name: "AccumulateGrad", node: "x", next: [], saved: [] },
    ],
    roots: [{ node: "x_pow3", port: null, to: 0 }],
  };

  it("keeps the graph the failing pass found, in the validation's node order, until the next run", () => {
    useResults.setState({ metas: { x: {} as NodeMeta, x_pow3: {} as NodeMeta }, run: null });
    const failure = new ApiError("the graph has 1 error", 422, [error("x_pow3", "pass 2 needs")], {}, graph);
    useResults.getState().failRun(failure);
    expect(shownBackward(useResults.getState())).toEqual({ graph, order: ["x", "x_pow3"] });
    useResults.getState().failRun(new ApiError("refused", 422, [error("x", "bad")]));
    expect(shownBackward(useResults.getState())).toBeNull();
    useResults.getState().failRun(failure);
    useResults.getState().clearRun();
    expect(useResults.getState().failedBackward).toBeNull();
  });
});

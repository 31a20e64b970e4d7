import { describe, expect, it } from "vitest";
import type { GraphError } from "../api/types";
import { errorsOf } from "./resultsStore";

const error = (node: string, message: string): GraphError => ({
  node,
  port: null,
  attribute: null,
  code: "runtime",
  message,
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

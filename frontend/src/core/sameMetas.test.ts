import { describe, expect, it } from "vitest";
import type { NodeMeta } from "../api/types";
import { keepUnchanged } from "./sameMetas";

const meta = (shape: number[], requires_grad = true): NodeMeta => ({
  shape,
  dtype: "float32",
  requires_grad,
  is_leaf: false,
});

describe("keepUnchanged", () => {
  it("keeps the objects of nodes whose metadata did not change", () => {
    const before = { a: meta([5, 5]), b: meta([5]) };
    const after = keepUnchanged(before, { a: meta([5, 5]), b: meta([4]) });
    expect(after.a).toBe(before.a);
    expect(after.b).not.toBe(before.b);
    expect(after.b.shape).toEqual([4]);
  });

  it("gives the same map when nothing changed, and a new one when a node came or went", () => {
    const before = { a: meta([2]) };
    expect(keepUnchanged(before, { a: meta([2]) })).toBe(before);
    expect(keepUnchanged(before, { a: meta([2], false) }).a.requires_grad).toBe(false);
    const more = keepUnchanged(before, { a: meta([2]), c: meta([]) });
    expect(Object.keys(more)).toEqual(["a", "c"]);
    expect(keepUnchanged(more, { a: meta([2]) })).toEqual({ a: before.a });
  });
});

import { describe, expect, it } from "vitest";
import type { EvaluateResponse } from "../api/types";
import { firstKernels, kernelLimit, kernelMaps, parameterValues, relativeChange } from "./kernels";
import type { Tensor } from "./tensor";
import { idleView, reduce } from "./training";

const t = (shape: number[], values: number[]): Tensor => ({ shape, data: Float64Array.from(values) });
const payload = (shape: number[]) => ({ shape, dtype: "float32", data: null }) as never;

describe("the first layer's kernels", () => {
  it("are the first 4-D parameter in the graph's order", () => {
    const shapes: Record<string, number[]> = { b: [32], w1: [32, 1, 3, 3], w2: [64, 32, 3, 3], fc: [10, 64] };
    expect(firstKernels(["b", "fc", "w1", "w2"], (id) => shapes[id])).toBe("w1");
    expect(firstKernels(["b", "fc"], (id) => shapes[id])).toBeNull();
    expect(firstKernels(["gone"], () => undefined)).toBeNull();
  });

  it("draw each out channel's kernel over in channel 0", () => {
    // [out 2, in 2, 1, 2]: out 0 is [[0, 1]] (in 0), [[2, 3]] (in 1); out 1 is [[4, 5]], [[6, 7]]
    const w = t([2, 2, 1, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    const maps = kernelMaps(w);
    expect(maps.shape).toEqual([2, 1, 2]);
    expect(Array.from(maps.data)).toEqual([0, 1, 4, 5]);
    // 32 kernels: 4 rows of 8, as wide as the panel
    const w32 = t(
      [32, 1, 3, 3],
      Array.from({ length: 288 }, (_, i) => i),
    );
    expect(kernelMaps(w32).shape).toEqual([4, 8, 3, 3]);
    expect(kernelMaps(w32).data[9]).toBe(9);
  });

  it("share one scale, and say how far they moved", () => {
    const a = t([1, 1, 2], [0.5, -0.25]);
    const b = t([1, 1, 2], [-2, 1]);
    expect(kernelLimit(a, b)).toBe(2);
    expect(kernelLimit(t([1], [0]))).toBe(1);
    expect(kernelLimit(t([2], [Number.NaN, -3]))).toBe(3);
    // |b - a| = sqrt(2.5^2 + 1.25^2), |a| = sqrt(0.25^2 + 0.5^2)
    expect(relativeChange(a, b)).toBeCloseTo(Math.hypot(2.5, 1.25) / Math.hypot(0.5, 0.25), 12);
    expect(relativeChange(a, t([1], [1]))).toBeNull();
    expect(relativeChange(t([1], [0]), t([1], [1]))).toBeNull();
  });
});

describe("the values as drawn", () => {
  it("are kept from the step-0 snapshot, and only from it", () => {
    const nodes = { w: { value: payload([2, 1, 3, 3]) }, x: { value: payload([4]) } };
    const at = (step: number) =>
      ({
        type: "snapshot",
        step,
        result: { nodes } as unknown as EvaluateResponse,
        boundary: null,
        curve: null,
      }) as const;
    let view = reduce(idleView(), { type: "started", steps: 9, parameters: ["w"], task: null, data: null });
    expect(view.initial).toBeNull();
    view = reduce(view, at(0));
    expect(view.initial).toEqual({ w: nodes.w.value });
    const later = { w: { value: payload([9, 9, 9, 9]) } };
    view = reduce(view, { ...at(5), result: { nodes: later } as unknown as EvaluateResponse });
    expect(view.initial).toEqual({ w: nodes.w.value });
    expect(parameterValues({ nodes } as unknown as EvaluateResponse, ["w", "missing"])).toEqual({
      w: nodes.w.value,
    });
  });
});

import { describe, expect, it } from "vitest";
import type { NodeResult, TensorPayload } from "../api/types";
import { canvasLimit, nodeNumbers, payloadAbsMax, previewKind, sharedLimit } from "./canvasScale";

function payload(values: number[], shape = [values.length], withData = true): TensorPayload {
  const finite = values.filter(Number.isFinite);
  const anyInfinite = finite.length < values.length;
  return {
    shape,
    dtype: "float64",
    numel: values.length,
    stats: {
      min: anyInfinite ? null : Math.min(...values),
      max: anyInfinite ? null : Math.max(...values),
      mean: null,
      std: null,
      norm: null,
      nan: values.filter(Number.isNaN).length,
      inf: values.filter((v) => Math.abs(v) === Number.POSITIVE_INFINITY).length,
    },
    data: withData
      ? { encoding: "list", dtype: "float64", values: values.map((v) => (Number.isFinite(v) ? v : null)) }
      : null,
    truncated: !withData,
    note: null,
  } as TensorPayload;
}

const node = (id: string, value: TensorPayload, grad: TensorPayload | null = null) =>
  ({ id, value, grad }) as unknown as NodeResult;

const ramp = (n: number, scale: number) => Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

describe("what a node's preview shows", () => {
  it("prints up to 16 elements, draws more, and gives statistics when no data came", () => {
    expect(previewKind(payload([-3, 2, 5]))).toBe("numbers");
    expect(previewKind(payload(ramp(16, 1)))).toBe("numbers");
    expect(previewKind(payload(ramp(17, 1)))).toBe("heatmap");
    expect(previewKind(payload(ramp(100, 1), [100], false))).toBe("stats");
  });
});

describe("a node's printed numbers", () => {
  it("are torch's text of a small tensor, made once per payload, and none for a heatmap", () => {
    const x = payload([-3, 2, 5]);
    const shown = nodeNumbers(x);
    expect(shown).toEqual({ text: "[-3.,  2.,  5.]", wide: false });
    expect(nodeNumbers(x)).toBe(shown);
    expect(nodeNumbers(payload(ramp(20, 1)))).toBeNull();
    expect(nodeNumbers(payload([1, 2], [2], false))).toBeNull();
  });
});

describe("one colour scale for the canvas", () => {
  it("spans the largest |value| of the heatmaps shown, not of printed numbers or data left out", () => {
    const nodes = [
      node("a", payload(ramp(20, 1))), // -10 .. 9
      node("b", payload(ramp(20, 3))), // -30 .. 27
      node("x", payload([-300, 2, 5])), // printed: not on the scale
      node("big", payload(ramp(100, 50), [100], false)), // no data: no heatmap
    ];
    expect(sharedLimit(nodes, "value")).toBe(30);
  });

  it("is the gradients' own in gradients mode, and zero when no heatmap is shown", () => {
    const nodes = [node("a", payload(ramp(20, 1)), payload(ramp(20, 0.5))), node("b", payload(ramp(20, 3)))];
    expect(sharedLimit(nodes, "grad")).toBe(5);
    expect(sharedLimit([node("x", payload([1, 2]))], "value")).toBe(0);
  });

  it("skips infinities and NaN, reading the finite values where the statistics cannot say", () => {
    const p = payload([...ramp(20, 1), Number.POSITIVE_INFINITY, Number.NaN, -12]);
    expect(payloadAbsMax(p)).toBe(12);
  });

  it("is computed once per run's node map and mode", () => {
    const nodes = { a: node("a", payload(ramp(20, 1)), payload(ramp(20, 2))) };
    expect(canvasLimit(nodes, "value")).toBe(10);
    expect(canvasLimit(nodes, "grad")).toBe(20);
    // The same map again gives the remembered answer; a merged node makes a new map.
    expect(canvasLimit(nodes, "value")).toBe(10);
    expect(canvasLimit({ ...nodes, b: node("b", payload(ramp(20, 4))) }, "value")).toBe(40);
    expect(canvasLimit(undefined, "value")).toBe(0);
  });

  it("leaves hidden gradients out of the scale, until they are revealed", () => {
    const nodes = {
      a: node("a", payload(ramp(20, 1)), payload(ramp(20, 3))),
      b: node("b", payload(ramp(20, 2)), payload(ramp(20, 50))),
    };
    const revealed: Record<string, boolean> = {};
    const hidden = (id: string) => !revealed[id];
    expect(canvasLimit(nodes, "grad", hidden)).toBe(0); // nothing shown: no range to give away
    revealed.a = true;
    expect(canvasLimit(nodes, "grad", hidden)).toBe(30);
    revealed.b = true;
    expect(canvasLimit(nodes, "grad", hidden)).toBe(500);
    expect(canvasLimit(nodes, "value", () => true)).toBe(20); // values are never hidden
  });
});

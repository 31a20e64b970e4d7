import { describe, expect, it } from "vitest";
import { NODE_COLUMNS, NODE_WIDE_COLUMNS, nodeText, printTensor, pyExp, pyFixed } from "./printTensor";
import cases from "./printTensor.cases.json";

// The expectations are what PyTorch printed (tests/print_cases.py wrote them; tests/test_print_cases.py
// checks they are still torch's).
const number = (v: number | string) =>
  typeof v === "string" ? Number(v.replace("nan", "NaN").replace("inf", "Infinity")) : v;

describe("printTensor prints as torch does", () => {
  it.each(cases.map((c) => [`${c.name} (indent ${c.indent}, ${c.linewidth} columns)`, c] as const))(
    "%s",
    (_, c) => {
      const tensor = { shape: c.shape, data: Float64Array.from(c.values, number) };
      expect(printTensor(tensor, c.dtype, { indent: c.indent, linewidth: c.linewidth })).toBe(c.torch);
    },
  );

  it("has the issue's example among its cases", () => {
    expect(cases[0].torch).toBe("[-3.,  2.,  5.]");
  });
});

describe("Python's float formats", () => {
  // Each expectation is what Python 3 printed for f"{v:.{n}f}" / f"{v:.{n}e}".
  it("rounds ties to even on the exact binary value, as Python does", () => {
    expect(pyFixed(0.125, 2)).toBe("0.12"); // JavaScript's toFixed says 0.13
    expect(pyFixed(0.375, 2)).toBe("0.38");
    expect(pyFixed(2.5, 0)).toBe("2");
    expect(pyFixed(-0.03125, 4)).toBe("-0.0312");
    expect(pyFixed(0.1 + 0.2, 4)).toBe("0.3000");
    expect(pyFixed(9.99995, 4)).toBe("10.0000"); // 9.99995 is 9.99995000000000011... in binary
    expect(pyFixed(99.99999, 4)).toBe("100.0000");
  });

  it("writes exponents with a sign and two digits at least", () => {
    expect(pyExp(12345.678, 4)).toBe("1.2346e+04");
    expect(pyExp(-2.5e-5, 4)).toBe("-2.5000e-05");
    expect(pyExp(1e-300, 2)).toBe("1.00e-300");
    expect(pyExp(0, 4)).toBe("0.0000e+00");
    expect(pyExp(-0, 1)).toBe("-0.0e+00");
    expect(pyExp(1.25, 1)).toBe("1.2e+00");
  });
});

describe("a node's numbers", () => {
  const byName = (name: string, linewidth: number) => {
    const c = cases.find((x) => x.name === name && x.indent === 0 && x.linewidth === linewidth);
    if (!c) throw new Error(`no case ${name} at ${linewidth} columns`);
    return { tensor: { shape: c.shape, data: Float64Array.from(c.values, number) }, c };
  };

  it("wraps a vector at the node's width, as torch wraps at its linewidth", () => {
    const { tensor, c } = byName("16 normal numbers", NODE_COLUMNS);
    expect(nodeText(tensor, c.dtype)).toEqual({ text: c.torch, wide: false });
  });

  it("keeps a matrix's rows whole, widening the node, when they fit in the wide width", () => {
    const { tensor, c } = byName("a 4x4 normal matrix", NODE_WIDE_COLUMNS);
    expect(c.torch.split("\n")).toHaveLength(4); // one line a row
    expect(nodeText(tensor, c.dtype)).toEqual({ text: c.torch, wide: true });
    const narrow = byName("a 2x2 matrix of whole numbers", NODE_COLUMNS);
    expect(nodeText(narrow.tensor, narrow.c.dtype)).toEqual({ text: narrow.c.torch, wide: false });
  });

  it("wraps a matrix whose rows are too long even for a wide node", () => {
    const { tensor, c } = byName("16 numbers 1e-3 to 10", NODE_COLUMNS);
    const row = { shape: [1, 16], data: tensor.data };
    const text = nodeText(row, c.dtype);
    expect(text.wide).toBe(false);
    expect(Math.max(...text.text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(NODE_COLUMNS);
  });
});

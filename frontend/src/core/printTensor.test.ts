import { describe, expect, it } from "vitest";
import { printTensor, pyExp, pyFixed } from "./printTensor";
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

import { describe, expect, it } from "vitest";
import { fieldSummary, overlayOf, unpackBits, unravel, windowLines } from "./field";

// numpy.packbits([1,0,1,1,0,0,0,0, 0,1], bitorder="little") -> bytes 0x0d 0x02
const BITS = btoa(String.fromCharCode(0x0d, 0x02));

describe("receptive field masks", () => {
  it("unpacks numpy's little-endian bits row-major", () => {
    expect(Array.from(unpackBits(BITS, 10))).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
  });

  it("marks the gradient's elements over the structural ones", () => {
    const grad = btoa(String.fromCharCode(0x01, 0x00)); // element 0 only
    const o = overlayOf({ bits: BITS, count: 4 }, { bits: grad, count: 1 }, 10);
    expect(Array.from(o)).toEqual([2, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
  });

  it("unravels a flat index", () => {
    expect(unravel(0, [12, 64, 4, 4])).toEqual([0, 0, 0, 0]);
    expect(unravel(3 * 16 + 2 * 4 + 1, [12, 64, 4, 4])).toEqual([0, 3, 2, 1]);
  });

  it("says which region is which, in words", () => {
    const text = fieldSummary(9408, { bits: "", count: 361 }, { bits: "", count: 300 }, {});
    expect(text).toBe(
      "361 of 9,408 elements can influence it, whatever the data; 300 have a non-zero gradient for this input.",
    );
    expect(fieldSummary(3, null, null, { structural: "unknown: g (grad) has no receptive rule" })).toContain(
      "unknown: g (grad)",
    );
  });
});

describe("window arithmetic", () => {
  it("fills in the chapter's dilation example", () => {
    const w = {
      size_in: 20,
      padding: 0,
      dilation: 4,
      kernel: 3,
      effective: 9,
      stride: 1,
      size_out: 12,
      ceil_mode: false,
    };
    expect(windowLines([w])).toEqual(["⌊(20 + 2·0 − 4·(3 − 1) − 1) / 1⌋ + 1 = 12 · k 3, d 4 → 9"]);
  });

  it("rounds up with ceil_mode", () => {
    const w = {
      size_in: 9,
      padding: 1,
      dilation: 1,
      kernel: 3,
      effective: 3,
      stride: 2,
      size_out: 5,
      ceil_mode: true,
    };
    expect(windowLines([w])[0]).toBe("⌈(9 + 2·1 − 1·(3 − 1) − 1) / 2⌉ + 1 = 5");
  });
});

import { describe, expect, it } from "vitest";
import { exactText, float32Text } from "./numbers";

describe("float32Text", () => {
  it("says a float32 in the fewest digits that read back as it", () => {
    const f = Math.fround(4.070731163024902);
    expect(String(f)).toBe("4.070731163024902"); // what decoding the tensor gives
    expect(float32Text(f)).toBe("4.070731");
    expect(Math.fround(Number(float32Text(f)))).toBe(f);
    expect(float32Text(Math.fround(0.1))).toBe("0.1");
    expect(float32Text(Math.fround(1 / 3))).toBe("0.33333334");
    expect(float32Text(27)).toBe("27");
    expect(float32Text(-0.5)).toBe("-0.5");
    expect(float32Text(Math.fround(1e-8))).toBe("1e-8");
    expect(float32Text(Math.fround(3.4e38))).toBe("3.4e+38");
  });

  it("round-trips every float32 it is given", () => {
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const v = Math.fround((seed / 2 ** 31 - 0.5) * 10 ** ((i % 20) - 10));
      const text = float32Text(v);
      expect(Math.fround(Number(text))).toBe(v);
      expect(text.replace(/^-|e.*$|\./g, "").replace(/^0+/, "").length).toBeLessThanOrEqual(9);
    }
  });

  it("names what is not a number", () => {
    expect(float32Text(Number.NaN)).toBe("nan");
    expect(float32Text(Number.POSITIVE_INFINITY)).toBe("inf");
    expect(float32Text(Number.NEGATIVE_INFINITY)).toBe("-inf");
  });
});

describe("exactText", () => {
  it("keeps a float64's every digit and an integer's", () => {
    expect(exactText(4.070731163024902, "float64")).toBe("4.070731163024902");
    expect(exactText(4.070731163024902, "float32")).toBe("4.070731");
    expect(exactText(7, "int64")).toBe("7");
  });
});

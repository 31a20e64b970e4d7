import { describe, expect, it } from "vitest";
import { clampPick, defaultPick, hasMaps, layout, PAGE, tilesOf } from "./mosaic";

describe("the maps a pick selects", () => {
  const conv = [12, 32, 8, 8]; // conv1 of the Net on digits

  it("draws 3-D and 4-D tensors as maps", () => {
    expect([[5], [5, 5], [2, 5, 5], conv, [1, 2, 3, 4, 5]].map(hasMaps)).toEqual([
      false,
      false,
      true,
      true,
      false,
    ]);
  });

  it("first shows one sample's channels, or every image of a one-channel batch", () => {
    expect(defaultPick(conv)).toEqual({ first: 0, second: null });
    expect(defaultPick([12, 1, 28, 28])).toEqual({ first: null, second: null });
    expect(defaultPick([1, 32, 8, 8])).toEqual({ first: null, second: null });
    expect(defaultPick([3, 4, 4])).toEqual({ first: null, second: null });
  });

  it("finds each map's first element: [s, c] starts at (s * C + c) * H * W", () => {
    expect(tilesOf(conv, { first: 3, second: 5 })).toEqual([{ offset: (3 * 32 + 5) * 64, index: [3, 5] }]);
    const channel = tilesOf(conv, { first: null, second: 5 });
    expect(channel.map((t) => t.index)).toEqual(Array.from({ length: 12 }, (_, s) => [s, 5]));
    const sample = tilesOf(conv, { first: 2, second: null });
    expect(sample.map((t) => t.offset)).toEqual(Array.from({ length: 32 }, (_, c) => (2 * 32 + c) * 64));
    expect(tilesOf(conv, { first: null, second: null })).toHaveLength(384);
    expect(tilesOf([3, 4, 5], { first: 1, second: null })).toEqual([{ offset: 20, index: [1] }]);
    expect(tilesOf([5, 5], { first: null, second: null })).toEqual([]);
  });

  it("keeps what still exists of a pick when the shape changes", () => {
    expect(clampPick({ first: 11, second: 31 }, [12, 32, 8, 8])).toEqual({ first: 11, second: 31 });
    expect(clampPick({ first: 11, second: 31 }, [4, 32, 8, 8])).toEqual({ first: null, second: 31 });
    expect(clampPick({ first: 1, second: 3 }, [4, 8, 8])).toEqual({ first: 1, second: null });
  });
});

describe("the mosaic's layout", () => {
  it("fills the width with one map, up to 24 px an element", () => {
    expect(layout(1, 24, 24, 280)).toEqual({ tile: 280, columns: 1, pages: 1 });
    expect(layout(1, 8, 8, 280).tile).toBe(192);
  });

  it("wraps many maps into the columns that fit, never wider than the panel", () => {
    for (const width of [200, 280, 400, 640]) {
      for (const [count, h] of [
        [32, 8],
        [12, 28],
        [384, 24],
        [3, 1],
      ]) {
        const fit = layout(count, h, h, width);
        expect(fit.columns * fit.tile + (fit.columns - 1) * 6).toBeLessThanOrEqual(width);
        expect(fit.tile).toBeGreaterThanOrEqual(Math.min(44, h * 24, width)); // 1x1 maps: 24 px
      }
    }
    expect(layout(32, 8, 8, 280)).toEqual({ tile: 51, columns: 5, pages: 1 });
  });

  it("pages beyond PAGE maps", () => {
    expect(layout(384, 24, 24, 280).pages).toBe(Math.ceil(384 / PAGE));
    expect(layout(PAGE, 8, 8, 280).pages).toBe(1);
  });
});

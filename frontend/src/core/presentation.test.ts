// The presentation mode's logic: remembered settings, the readable Fit, the minimap's cover test and
// the toolbar's overflow.
import { describe, expect, it } from "vitest";
import { floorZoom, READABLE_TITLE_PX, readableFit, startOf, zoomAbout } from "./fit";
import { MINIMAP, minimapCovers, minimapRect, onScreen } from "./minimap";
import { overflowing } from "./overflow";
import { DEFAULT_PREFS, parsePrefs, presenting, stepScale } from "./prefs";

describe("prefs", () => {
  it("reads what was stored", () => {
    expect(parsePrefs(JSON.stringify({ palette: false, inspector: true, scale: 1.5 }))).toEqual({
      palette: false,
      inspector: true,
      scale: 1.5,
    });
  });
  it("falls back per field on anything unreadable", () => {
    expect(parsePrefs(null)).toEqual(DEFAULT_PREFS);
    // a tablet held upright starts with the palette folded, unless it was left open
    expect(parsePrefs(null, 768)).toEqual({ ...DEFAULT_PREFS, palette: false });
    expect(parsePrefs(null, 1024)).toEqual(DEFAULT_PREFS);
    expect(parsePrefs(JSON.stringify({ palette: true }), 768).palette).toBe(true);
    expect(parsePrefs(JSON.stringify({ scale: 1.5 }), 768)).toEqual({
      palette: false,
      inspector: true,
      scale: 1.5,
    });
    expect(parsePrefs("{not json")).toEqual(DEFAULT_PREFS);
    expect(parsePrefs("[1]")).toEqual(DEFAULT_PREFS);
    expect(parsePrefs(JSON.stringify({ palette: false, scale: 3 }))).toEqual({
      ...DEFAULT_PREFS,
      palette: false,
    });
    expect(parsePrefs(JSON.stringify({ inspector: "no", scale: "2" }))).toEqual(DEFAULT_PREFS);
  });
  it("presents with both panels away, and steps the scale within its list", () => {
    expect(presenting({ palette: false, inspector: false, scale: 1 })).toBe(true);
    expect(presenting({ palette: false, inspector: true, scale: 1 })).toBe(false);
    expect(stepScale(1, 1)).toBe(1.25);
    expect(stepScale(2, 1)).toBe(2);
    expect(stepScale(1, -1)).toBe(1);
    expect(stepScale(1.5, -1)).toBe(1.25);
  });
});

describe("readableFit", () => {
  const opts = { padding: 0.1, floor: 0.5, max: 1.2 };

  it("centres a graph that fits at a readable zoom, as fitView would", () => {
    const v = readableFit({ x: 100, y: 50, width: 400, height: 200 }, 1000, 500, opts);
    // 800 px across for 400 units, 400 px down for 200: zoom 2, kept to the max 1.2.
    expect(v.zoom).toBeCloseTo(1.2);
    // The graph's centre (300, 150) lands on the canvas's centre (500, 250).
    expect(300 * v.zoom + v.x).toBeCloseTo(500);
    expect(150 * v.zoom + v.y).toBeCloseTo(250);
  });

  it("never zooms below the floor: a wide graph starts at its left edge", () => {
    const bounds = { x: -40, y: 0, width: 4000, height: 300 };
    const v = readableFit(bounds, 1000, 500, opts);
    expect(v.zoom).toBe(0.5);
    // Left edge at the padding, so the inputs are in view; vertically centred, as it fits.
    expect(bounds.x * v.zoom + v.x).toBeCloseTo(100);
    expect((bounds.y + bounds.height / 2) * v.zoom + v.y).toBeCloseTo(250);
  });

  it("shows a tall graph from its top", () => {
    const v = readableFit({ x: 0, y: 20, width: 100, height: 5000 }, 1000, 500, opts);
    expect(v.zoom).toBe(0.5);
    expect(20 * v.zoom + v.y).toBeCloseTo(50);
    expect(50 * v.zoom + v.x).toBeCloseTo(500); // centred across: it fits that way
  });

  it("centres a tall graph on its inputs, within its top and bottom", () => {
    const bounds = { x: 0, y: 0, width: 3000, height: 2000 };
    // Inputs around y = 1000: that point at the canvas's middle (250 px down).
    const v = readableFit(bounds, 1000, 500, opts, 1000);
    expect(1000 * v.zoom + v.y).toBeCloseTo(250);
    // Inputs at the very top: the graph's top stays at the padding, no empty band above it.
    const top = readableFit(bounds, 1000, 500, opts, 10);
    expect(0 * top.zoom + top.y).toBeCloseTo(50);
    // At the very bottom: its bottom at the padding from the canvas's bottom edge.
    const bottom = readableFit(bounds, 1000, 500, opts, 1990);
    expect(2000 * bottom.zoom + bottom.y).toBeCloseTo(450);
  });

  it("finds the middle of the graph's first column", () => {
    const nodes = [
      { x: 0, y: 400, width: 180, height: 100 }, // the leftmost
      { x: 40, y: 800, width: 180, height: 100 }, // level with it
      { x: 300, y: 0, width: 180, height: 100 }, // the next column: not counted
    ];
    expect(startOf(nodes)).toBe(650);
    expect(startOf([])).toBeUndefined();
  });

  it("goes above the max when the floor says so", () => {
    const v = readableFit({ x: 0, y: 0, width: 100, height: 100 }, 1000, 500, { ...opts, floor: 1.5 });
    expect(v.zoom).toBe(1.5);
  });

  it("turns readable sizes into zooms for a title font", () => {
    expect(floorZoom(12, READABLE_TITLE_PX.room)).toBeCloseTo(14 / 12);
    expect(floorZoom(12, READABLE_TITLE_PX.desk * 2)).toBeCloseTo(1.5);
    expect(floorZoom(0, 9)).toBe(9); // a title not measured yet counts as 1 px, never a division by 0
  });

  it("zooms about a point that stays put", () => {
    const v = zoomAbout({ x: 10, y: 20, zoom: 0.8 }, 1.5, 400, 300);
    expect(v.zoom).toBeCloseTo(1.2);
    // The flow point under (400, 300) before is under it after.
    const fx = (400 - 10) / 0.8;
    expect(fx * v.zoom + v.x).toBeCloseTo(400);
    const fy = (300 - 20) / 0.8;
    expect(fy * v.zoom + v.y).toBeCloseTo(300);
  });
});

describe("minimapCovers", () => {
  const W = 1000;
  const H = 600;
  const map = minimapRect(W, H);
  const identity = { x: 0, y: 0, zoom: 1 };

  it("places the minimap in the bottom-right corner", () => {
    expect(map).toEqual({ x: W - 15 - MINIMAP.width, y: H - 15 - MINIMAP.height, width: 200, height: 150 });
  });

  it("is false when every node is clear of it, true when one overlaps it", () => {
    const clear = [
      { x: 10, y: 10, width: 180, height: 100 },
      { x: map.x - 181, y: map.y, width: 180, height: 100 },
    ];
    expect(minimapCovers(clear, identity, W, H)).toBe(false);
    const loss = { x: map.x + 150, y: map.y - 90, width: 180, height: 100 };
    expect(minimapCovers([...clear, loss], identity, W, H)).toBe(true);
  });

  it("follows the viewport: panning a node under the map, or zooming it there", () => {
    const n = { x: 600, y: 300, width: 100, height: 80 };
    expect(minimapCovers([n], identity, W, H)).toBe(false);
    expect(minimapCovers([n], { x: 150, y: 150, zoom: 1 }, W, H)).toBe(true);
    expect(onScreen(n, { x: 0, y: 0, zoom: 1.5 })).toEqual({ x: 900, y: 450, width: 150, height: 120 });
    expect(minimapCovers([n], { x: 0, y: 0, zoom: 1.5 }, W, H)).toBe(true);
  });

  it("does not count a node only touching its edge", () => {
    const edge = { x: map.x - 100, y: map.y, width: 100, height: 50 };
    expect(minimapCovers([edge], identity, W, H)).toBe(false);
  });
});

describe("overflowing", () => {
  const items = [
    { key: "examples", width: 80, keep: 5 },
    { key: "layout", width: 90, keep: 1 },
    { key: "no_grad", width: 70, keep: 1 },
    { key: "run", width: 60, keep: 9 },
  ];

  it("keeps everything when it all fits", () => {
    // 300 px of items and 3 gaps of 6.
    expect(overflowing(items, 318, 6, 30).size).toBe(0);
  });

  it("gives up the least needed first, the later of equals first, with room for the ⋯ button", () => {
    // Without no_grad: 230 + 2 gaps = 242, plus a gap and the 30 px button = 278.
    expect([...overflowing(items, 300, 6, 30)]).toEqual(["no_grad"]);
    expect([...overflowing(items, 277, 6, 30)]).toEqual(["no_grad", "layout"]);
  });

  it("keeps nothing when nothing fits", () => {
    expect(overflowing(items, 10, 6, 30).size).toBe(4);
  });
});

import { describe, expect, it } from "vitest";
import { curve, type LabelAnchor, labelBox, labelWidth, layoutLabels, spots } from "./edgeLabel";
import type { Rect } from "./graph";

const meet = (a: Rect, b: Rect) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const boxes = (anchors: [string, LabelAnchor][], placed: ReturnType<typeof layoutLabels>) =>
  anchors.filter(([id]) => !placed[id].crowded).map(([id, a]) => labelBox(a, [placed[id].x, placed[id].y]));
const noTwoMeet = (rects: Rect[]) => rects.every((a, i) => rects.slice(i + 1).every((b) => !meet(a, b)));

describe("the curve", () => {
  it("runs from the source handle to the target handle, as React Flow draws it", () => {
    const at = curve({ sx: 0, sy: 0, tx: 300, ty: 120, text: "[3]" });
    expect(at(0)).toEqual([0, 0]);
    expect(at(1)).toEqual([300, 120]);
    // React Flow's control points put the middle at the middle for a left-to-right edge
    expect(at(0.5)[0]).toBeCloseTo(150);
    expect(at(0.5)[1]).toBeCloseTo(60);
  });
});

describe("layoutLabels", () => {
  it("puts a label beside the port it goes into, clear of the node", () => {
    const edge: LabelAnchor = { sx: 0, sy: 0, tx: 400, ty: 200, text: "[64, 10]" };
    const [first] = spots(edge);
    const box = labelBox(edge, first);
    expect(box.x + box.width).toBeLessThanOrEqual(400);
    expect(box.x + box.width).toBeGreaterThan(400 - 30);
  });

  it("keeps a fan-out's labels apart, where at their middles they meet", () => {
    // one source feeding five ops stacked in a column (the 4.1 DAG's w1, a shared weight)
    const fan: [string, LabelAnchor][] = [0, 1, 2, 3, 4].map((k) => [
      `w->op${k}`,
      { sx: 0, sy: 200, tx: 260, ty: 160 + k * 18, text: "[5, 5]" }, // a row apart
    ]);
    const middles = fan.map(([, a]) => labelBox(a, curve(a)(0.5)));
    expect(noTwoMeet(middles)).toBe(false);
    const placed = layoutLabels(fan, []);
    expect(Object.values(placed).every((p) => !p.crowded)).toBe(true);
    expect(noTwoMeet(boxes(fan, placed))).toBe(true);
  });

  it("keeps a label off the nodes where it can, and over them where they leave no room", () => {
    const edge: LabelAnchor = { sx: 100, sy: 50, tx: 400, ty: 50, text: "[2]" };
    const [near] = spots(edge);
    const inTheWay: Rect = { ...labelBox(edge, near), width: labelWidth("[2]") };
    const placed = layoutLabels([["e", edge]], [inTheWay]);
    expect(meet(labelBox(edge, [placed.e.x, placed.e.y]), inTheWay)).toBe(false);
    const tight: LabelAnchor = { sx: 0, sy: 0, tx: 30, ty: 0, text: "[117, 4, 10, 13]" };
    const nodes = [
      { x: -170, y: -40, width: 170, height: 80 },
      { x: 30, y: -40, width: 170, height: 80 },
    ];
    expect(layoutLabels([["t", tight]], nodes).t.crowded).toBe(false);
  });

  it("marks a label crowded when every spot meets another label", () => {
    const same: LabelAnchor = { sx: 0, sy: 0, tx: 300, ty: 0, text: "[3, 4]" };
    const copies: [string, LabelAnchor][] = [0, 1, 2, 3, 4, 5].map((k) => [`e${k}`, { ...same }]);
    const placed = layoutLabels(copies, []);
    expect(placed.e0.crowded).toBe(false);
    expect(placed.e5.crowded).toBe(true);
    expect(noTwoMeet(boxes(copies, placed))).toBe(true);
  });
});

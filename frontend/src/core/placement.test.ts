import { describe, expect, it } from "vitest";
import type { Rect } from "./graph";
import { around, boxOf, estimatedSize, GAP, overlaps, placeNode, shown } from "./placement";

const view: Rect = { x: 0, y: 0, width: 1000, height: 600 };
const size = estimatedSize(1);
const box = (p: { x: number; y: number }): Rect => ({ ...p, ...size });

describe("placeNode", () => {
  it("puts the first node in the middle of the view", () => {
    const p = placeNode(size, [], null, view);
    expect(p.x + size.width / 2).toBeCloseTo(500, 0);
    expect(p.y + size.height / 2).toBeCloseTo(300, 0);
  });

  it("puts a node beside the selection, to its right", () => {
    const selected = box({ x: 100, y: 100 });
    expect(placeNode(size, [selected], selected, view)).toEqual({ x: 100 + size.width + GAP, y: 100 });
  });

  it("never stacks nodes added one after another, with or without a selection", () => {
    for (const select of [true, false]) {
      const boxes: Rect[] = [];
      for (let i = 0; i < 12; i++) {
        const anchor = select ? (boxes[boxes.length - 1] ?? null) : null;
        boxes.push(box(placeNode(size, boxes, anchor, view)));
      }
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) expect(overlaps(boxes[i], boxes[j], GAP - 1)).toBe(false);
      }
      // all of them in view while there is room in it
      expect(boxes.every((b) => shown(b, size, view))).toBe(true);
    }
  });

  it("goes around a node in the way, and past the view when the view is full", () => {
    const inTheMiddle = box({ x: 500 - size.width / 2, y: 300 - size.height / 2 });
    const p = placeNode(size, [inTheMiddle], null, view);
    expect(overlaps(box(p), inTheMiddle, GAP - 1)).toBe(false);
    const small: Rect = { x: 0, y: 0, width: size.width + 10, height: size.height + 10 };
    const full = [box({ x: 0, y: 0 })];
    const out = placeNode(size, full, null, small);
    expect(overlaps(box(out), full[0], GAP - 1)).toBe(false);
    expect(shown(out, size, small)).toBe(false);
  });

  it("reads drawn sizes, and the box around a selection", () => {
    expect(boxOf({ position: { x: 1, y: 2 }, measured: { width: 30, height: 40 } })).toEqual({
      x: 1,
      y: 2,
      width: 30,
      height: 40,
    });
    expect(around([box({ x: 0, y: 0 }), box({ x: 300, y: 50 })])).toEqual({
      x: 0,
      y: 0,
      width: 300 + size.width,
      height: 50 + size.height,
    });
    expect(around([])).toBeNull();
  });
});

// Whether the minimap would hide part of a node: it sits in the canvas's bottom-right corner, and a
// node under it (the loss node, often, as the last one on the right) is one the page cannot show.

import type { Rect, Viewport } from "./fit";

/** The minimap's size and its margin from the canvas's edges, in px (React Flow's panel margin). */
export const MINIMAP = { width: 200, height: 150, margin: 15 } as const;

/** The minimap's rectangle on a canvas of `width` × `height` px. */
export function minimapRect(width: number, height: number): Rect {
  return {
    x: width - MINIMAP.margin - MINIMAP.width,
    y: height - MINIMAP.margin - MINIMAP.height,
    width: MINIMAP.width,
    height: MINIMAP.height,
  };
}

const overlaps = (a: Rect, b: Rect) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The node (flow units) where the viewport puts it on the canvas (px). */
export function onScreen(node: Rect, v: Viewport): Rect {
  return {
    x: node.x * v.zoom + v.x,
    y: node.y * v.zoom + v.y,
    width: node.width * v.zoom,
    height: node.height * v.zoom,
  };
}

/** True when any node drawn through `v` overlaps the minimap on a `width` × `height` canvas. */
export function minimapCovers(nodes: Iterable<Rect>, v: Viewport, width: number, height: number): boolean {
  const map = minimapRect(width, height);
  for (const n of nodes) if (overlaps(onScreen(n, v), map)) return true;
  return false;
}

// Where a node added from the palette (Enter, a click, a tap) goes: beside the selection, or at the
// middle of the view, and never on a node. The drop of a drag goes where it is dropped instead.
import type { Rect } from "./graph";

/** Space kept between a new node and any other. */
export const GAP = 24;
/** A node's width as drawn, and its height with no port; each port row adds PORT_ROW. */
const NODE_WIDTH = 170;
const BASE_HEIGHT = 70;
const PORT_ROW = 18;
/** How many rings of node-sized steps around the first spot are tried. */
const RINGS = 8;

/** A node's size before it is drawn, from its op's ports. */
export const estimatedSize = (ports: number): { width: number; height: number } => ({
  width: NODE_WIDTH,
  height: BASE_HEIGHT + PORT_ROW * Math.max(ports, 1),
});

/** A node as placement sees it: drawn (React Flow measured it) or estimated. */
export function boxOf(node: {
  position: { x: number; y: number };
  measured?: { width?: number; height?: number };
}): Rect {
  const fallback = estimatedSize(2);
  return {
    x: node.position.x,
    y: node.position.y,
    width: node.measured?.width ?? fallback.width,
    height: node.measured?.height ?? fallback.height,
  };
}

/** The box around several boxes; null around none. */
export function around(boxes: Rect[]): Rect | null {
  if (!boxes.length) return null;
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return { x, y, width: right - x, height: bottom - y };
}

/** Whether two boxes come closer than `gap`. */
export function overlaps(a: Rect, b: Rect, gap = 0): boolean {
  return (
    a.x < b.x + b.width + gap &&
    b.x < a.x + a.width + gap &&
    a.y < b.y + b.height + gap &&
    b.y < a.y + a.height + gap
  );
}

const inside = (a: Rect, view: Rect) =>
  a.x >= view.x &&
  a.y >= view.y &&
  a.x + a.width <= view.x + view.width &&
  a.y + a.height <= view.y + view.height;

/**
 * The top-left corner for a new node of `size`: to the right of `anchor` (the selection), else
 * below it, else centred in `view`; when that spot is taken, the nearest free one on a grid of
 * node-sized steps around it, preferring spots inside `view`. Free means GAP away from every box.
 */
export function placeNode(
  size: { width: number; height: number },
  boxes: Rect[],
  anchor: Rect | null,
  view: Rect,
): { x: number; y: number } {
  const at = (x: number, y: number): Rect => ({ x, y, width: size.width, height: size.height });
  const starts = anchor
    ? [at(anchor.x + anchor.width + GAP, anchor.y), at(anchor.x, anchor.y + anchor.height + GAP)]
    : [at(view.x + (view.width - size.width) / 2, view.y + (view.height - size.height) / 2)];
  const stepX = size.width + GAP;
  const stepY = size.height + GAP;
  const candidates: Rect[] = [...starts];
  for (let ring = 1; ring <= RINGS; ring++) {
    const around: Rect[] = [];
    for (let dx = -ring; dx <= ring; dx++) {
      for (let dy = -ring; dy <= ring; dy++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) === ring)
          around.push(at(starts[0].x + dx * stepX, starts[0].y + dy * stepY));
      }
    }
    // nearest first; of equals, rightward and downward first (the way a graph is read)
    const d = (r: Rect) => Math.hypot(r.x - starts[0].x, r.y - starts[0].y);
    around.sort((a, b) => d(a) - d(b) || b.x - a.x || b.y - a.y);
    candidates.push(...around);
  }
  const free = candidates.filter((c) => !boxes.some((b) => overlaps(c, b, GAP)));
  const chosen = free.find((c) => inside(c, view)) ?? free[0] ?? candidates[candidates.length - 1];
  return { x: Math.round(chosen.x), y: Math.round(chosen.y) };
}

/** Whether a node placed at `corner` with `size` shows whole in `view` (else the view goes to it). */
export const shown = (
  corner: { x: number; y: number },
  size: { width: number; height: number },
  view: Rect,
) => inside({ ...corner, ...size }, view);

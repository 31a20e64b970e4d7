// Where each edge's shape label goes, all edges at once, so that no two meet. At the middle of each
// curve, the labels of edges that fan out of one node, or cross, land on each other. Each label is
// tried beside the port it goes into (a node's ports are a row apart), at the middle, beside the
// port it comes from, then a quarter of the way along; of the spots clear of the labels placed
// before it, the first clear of every node too is taken (else the one covering least of them). A
// label with no spot clear of the others is crowded: it shows while its edge is hovered or selected. The curve is React Flow's bezier from a right-hand source to a
// left-hand target (getBezierPath with its default curvature), computed here alike.
import type { Rect } from "./graph";

/** A shape label's size in flow units: 10 px monospace, 4 px padding each side (styles.css). */
export const LABEL_HEIGHT = 15;
const CHAR_WIDTH = 6.1;
const PADDING = 10;
/** What is kept between a label and the node beside it, or another label. */
const CLEAR = 6;

export const labelWidth = (text: string) => text.length * CHAR_WIDTH + PADDING;

type Point = [number, number];

/** An edge as its label sees it: its ends (handle positions) and the label's text. */
export interface LabelAnchor {
  sx: number;
  sy: number;
  tx: number;
  ty: number;
  text: string;
}

export interface PlacedLabel {
  x: number;
  y: number;
  /** No clear spot: shown only while its edge is hovered or selected. */
  crowded: boolean;
}

/** The control offset React Flow gives a handle (@xyflow/system calculateControlOffset). */
function controlOffset(distance: number, curvature = 0.25): number {
  return distance >= 0 ? 0.5 * distance : curvature * 25 * Math.sqrt(-distance);
}

/** The edge's curve: source on a node's right, target on a node's left. */
export function curve(a: LabelAnchor): (t: number) => Point {
  const { sx, sy, tx, ty } = a;
  const c1: Point = [sx + controlOffset(tx - sx), sy];
  const c2: Point = [tx - controlOffset(tx - sx), ty];
  return (t) => {
    const u = 1 - t;
    const [p, q, r, s] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
    return [p * sx + q * c1[0] + r * c2[0] + s * tx, p * sy + q * c1[1] + r * c2[1] + s * ty];
  };
}

/** The first point from `from` towards the middle whose label clears the end's node by CLEAR,
 * sideways (`side` -1: the label ends before x; +1: it starts after x). */
function besideEnd(
  at: (t: number) => Point,
  x: number,
  half: number,
  side: -1 | 1,
  from: 0 | 1,
): Point | null {
  const steps = 32;
  for (let k = 1; k <= steps / 2; k++) {
    const point = at(from === 1 ? 1 - k / steps : k / steps);
    if (side * (point[0] - x) >= half + CLEAR) return point;
  }
  return null;
}

/** The spots a label is tried at, best first. */
export function spots(a: LabelAnchor): Point[] {
  const at = curve(a);
  const half = labelWidth(a.text) / 2;
  const near = [
    besideEnd(at, a.tx, half, -1, 1),
    at(0.5),
    besideEnd(at, a.sx, half, 1, 0),
    at(0.25),
    at(0.75),
  ];
  return near.filter((p): p is Point => p !== null);
}

export function labelBox(a: LabelAnchor, [x, y]: Point): Rect {
  const width = labelWidth(a.text);
  return { x: x - width / 2, y: y - LABEL_HEIGHT / 2, width, height: LABEL_HEIGHT };
}

const meets = (a: Rect, b: Rect, gap: number) =>
  a.x < b.x + b.width + gap &&
  b.x < a.x + a.width + gap &&
  a.y < b.y + b.height + gap &&
  b.y < a.y + a.height + gap;

/** How much of `a` lies over `b`. */
function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Every label's place, in the order given (the earlier keep their best spot): of its spots clear
 * of the labels placed before it, the one that covers least of the nodes (nodes set close leave a
 * label no room to be clear of them; it is drawn over them). */
export function layoutLabels(anchors: [string, LabelAnchor][], nodes: Rect[]): Record<string, PlacedLabel> {
  const placed: Rect[] = [];
  const out: Record<string, PlacedLabel> = {};
  for (const [id, anchor] of anchors) {
    const tried = spots(anchor);
    let best: { box: Rect; at: Point; covers: number } | null = null;
    for (const at of tried) {
      const box = labelBox(anchor, at);
      if (placed.some((b) => meets(box, b, 1))) continue;
      const covers = nodes.reduce((sum, n) => sum + overlapArea(box, n), 0);
      if (best === null || covers < best.covers) best = { box, at, covers };
      if (covers === 0) break;
    }
    if (best) {
      placed.push(best.box);
      out[id] = { x: best.at[0], y: best.at[1], crowded: false };
    } else {
      out[id] = { x: tried[0][0], y: tried[0][1], crowded: true };
    }
  }
  return out;
}

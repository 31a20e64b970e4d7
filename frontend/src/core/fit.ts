// Fit that keeps node titles readable: the zoom that shows the whole graph, unless that zoom would
// print titles smaller than a person can read; then the readable zoom, with the graph's start in view
// and the rest a pan away.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/** The smallest on-screen title, in CSS px, that Fit allows. At a desk the page is read from half
 * a metre and an overview matters (9 px); presenting, it is read from the back of a room (14 px, the
 * size the issue measured a projector's back row needs at 1280×720). Both grow with the scale. */
export const READABLE_TITLE_PX = { desk: 9, room: 14 } as const;

/** The zoom at which a title of `titlePx` (its font size on the canvas) shows `readablePx` tall. */
export const floorZoom = (titlePx: number, readablePx: number) => readablePx / Math.max(titlePx, 1);

export interface FitOptions {
  /** Empty margin around the graph, as a fraction of the canvas (React Flow's fitView padding). */
  padding: number;
  /** The zoom below which titles are unreadable. */
  floor: number;
  /** The largest zoom Fit picks for a small graph (it still goes up to `floor` if that is higher). */
  max: number;
}

/**
 * The viewport for `bounds` (the graph, in flow units) on a canvas of `width` × `height` px.
 *
 * When the whole graph fits at a readable zoom it is centred, as React Flow's fitView would. When it
 * does not, the zoom stays at the floor and the view starts at the graph's left edge, where its
 * inputs are (graphs are laid out left to right, in the order they compute): a class follows the
 * forward pass from its start, panning right, rather than seeing a middle with both ends cut off.
 * Vertically it is centred if it fits, else centred on `startY` (the inputs' middle, startOf) but
 * kept within the graph's top and bottom; without one, shown from the top.
 */
export function readableFit(
  bounds: Rect,
  width: number,
  height: number,
  o: FitOptions,
  startY?: number,
): Viewport {
  const padX = width * o.padding;
  const padY = height * o.padding;
  const fitZoom = Math.min(
    (width - 2 * padX) / Math.max(bounds.width, 1),
    (height - 2 * padY) / Math.max(bounds.height, 1),
  );
  const zoom = Math.max(Math.min(fitZoom, o.max), o.floor);
  const w = bounds.width * zoom;
  const h = bounds.height * zoom;
  const x = w <= width - 2 * padX ? (width - w) / 2 : padX;
  let y = padY;
  if (h <= height - 2 * padY) y = (height - h) / 2;
  else if (startY !== undefined) {
    const centred = height / 2 - (startY - bounds.y) * zoom;
    y = Math.min(padY, Math.max(height - padY - h, centred));
  }
  return { x: x - bounds.x * zoom, y: y - bounds.y * zoom, zoom };
}

/** The middle, top to bottom, of the graph's first column: the nodes level with its leftmost one. */
export function startOf(nodes: Rect[]): number | undefined {
  if (!nodes.length) return undefined;
  const first = nodes.reduce((a, n) => (n.x < a.x ? n : a));
  const column = nodes.filter((n) => n.x < first.x + first.width);
  const top = Math.min(...column.map((n) => n.y));
  const bottom = Math.max(...column.map((n) => n.y + n.height));
  return (top + bottom) / 2;
}

/** The viewport zoomed by `ratio` about the canvas point (cx, cy), which stays where it is. */
export function zoomAbout(v: Viewport, ratio: number, cx: number, cy: number): Viewport {
  return { x: cx - (cx - v.x) * ratio, y: cy - (cy - v.y) * ratio, zoom: v.zoom * ratio };
}

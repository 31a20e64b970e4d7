// What a node's preview shows, and the one colour scale of the canvas's heatmaps.
//
// A tensor of up to 16 elements prints its numbers on the node (core/printTensor.ts); a larger one
// that came with its data is a heatmap. All heatmaps on the canvas share one symmetric scale, the
// largest |value| among them, so that two nodes can be compared by their colours: a pale node is
// one whose numbers are small next to the others', which is worth seeing (a vanishing gradient).
// When one node's range dwarfs the rest (the conv net's gradients span 80x), the canvas legend
// offers each node its own scale instead, and each heatmap then says its own range.
import type { NodeResult, TensorPayload } from "../api/types";
import { nodeText } from "./printTensor";
import { absMax, decode } from "./tensor";

/** The most elements a node prints as numbers. */
export const MOST_PRINTED = 16;

export type Preview = "numbers" | "heatmap" | "stats";

/** How a node shows a tensor: numbers up to 16 elements, a heatmap when larger, and its
 * statistics alone when its data did not come with the run. */
export function previewKind(p: TensorPayload): Preview {
  if (!p.data) return "stats";
  return p.numel <= MOST_PRINTED ? "numbers" : "heatmap";
}

const printed = new WeakMap<TensorPayload, { text: string; wide: boolean } | null>();

/** A small tensor's text on its node (core/printTensor.ts nodeText), made once per payload: the
 * node reads whether it widens, its preview the text. Null for a tensor that is not printed. */
export function nodeNumbers(p: TensorPayload): { text: string; wide: boolean } | null {
  if (previewKind(p) !== "numbers") return null;
  if (!printed.has(p)) {
    const t = decode(p);
    printed.set(p, t && nodeText(t, p.dtype));
  }
  return printed.get(p) ?? null;
}

/** The largest |value| of a tensor, from its statistics where they are finite (no decoding). */
export function payloadAbsMax(p: TensorPayload): number {
  const { min, max } = p.stats;
  if (min !== null && max !== null && Number.isFinite(min) && Number.isFinite(max))
    return Math.max(Math.abs(min), Math.abs(max));
  const t = decode(p); // an infinity or NaN somewhere: the finite values' largest
  return t ? absMax(t.data) : 0;
}

export type Mode = "value" | "grad";

/** Whether a node's gradient is hidden (predict, then reveal: store/revealStore.ts). */
export type Hidden = (id: string) => boolean;

/** The shared scale of the heatmaps a mode shows: the largest |value| over them, 0 when none. A
 * hidden gradient is left out: the scale would tell its size before the student predicts it. */
export function sharedLimit(nodes: Iterable<NodeResult>, mode: Mode, hidden?: Hidden): number {
  let limit = 0;
  for (const n of nodes) {
    if (mode === "grad" && hidden?.(n.id)) continue;
    const p = mode === "grad" ? n.grad : n.value;
    if (p && previewKind(p) === "heatmap") limit = Math.max(limit, payloadAbsMax(p));
  }
  return limit;
}

// One computation per run and mode, however many nodes ask: every node's preview reads it.
const cache = new WeakMap<object, Partial<Record<Mode, number>>>();

/** sharedLimit of a run's nodes, remembered for that run's node map (not while some gradients
 * are hidden: then it follows each reveal). */
export function canvasLimit(
  nodes: Record<string, NodeResult> | undefined,
  mode: Mode,
  hidden?: Hidden,
): number {
  if (!nodes) return 0;
  if (mode === "grad" && hidden && Object.keys(nodes).some(hidden))
    return sharedLimit(Object.values(nodes), mode, hidden);
  const entry = cache.get(nodes) ?? {};
  cache.set(nodes, entry);
  entry[mode] ??= sharedLimit(Object.values(nodes), mode);
  return entry[mode];
}

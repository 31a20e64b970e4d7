// Receptive fields (POST /api/receptive_field), React-free: the server's bit masks unpacked, each
// element's overlay class, and the words of the window arithmetic an edge shows.

/** One bit per element, row-major, least significant bit first (numpy.packbits bitorder "little"). */
export function unpackBits(b64: string, numel: number): Uint8Array {
  const raw = atob(b64);
  const out = new Uint8Array(numel);
  for (let i = 0; i < numel; i++) out[i] = (raw.charCodeAt(i >> 3) >> (i & 7)) & 1;
  return out;
}

/** What an element is, in a field: 0 outside, 1 can influence (structural only), 2 also has a
 * non-zero gradient. A gradient outside the structural field (the structure unknown) is 2 too. */
export type Overlay = Uint8Array;

export const OUTSIDE = 0;
export const CAN_INFLUENCE = 1;
export const GRADIENT = 2;

export interface MaskLike {
  bits: string;
  count: number;
}

export function overlayOf(structural: MaskLike | null, gradient: MaskLike | null, numel: number): Overlay {
  const out = new Uint8Array(numel);
  if (structural) out.set(unpackBits(structural.bits, numel));
  if (gradient) {
    const g = unpackBits(gradient.bits, numel);
    for (let i = 0; i < numel; i++) if (g[i]) out[i] = GRADIENT;
  }
  return out;
}

/** Row-major index of `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return index;
}

/** How the field reads on a node, in words: counts of both regions, or why one is missing. */
export function fieldSummary(
  numel: number,
  structural: MaskLike | null,
  gradient: MaskLike | null,
  notes: { structural?: string | null; gradient?: string | null },
): string {
  const can = structural
    ? `${structural.count.toLocaleString("en-US")} of ${numel.toLocaleString("en-US")} elements can influence it, whatever the data`
    : `where it can influence is ${notes.structural ?? "unknown"}`;
  const grad = gradient
    ? `${gradient.count.toLocaleString("en-US")} have a non-zero gradient for this input`
    : `no gradient (${notes.gradient ?? "none reaches it"})`;
  return `${can}; ${grad}.`;
}

export interface WindowLike {
  size_in: number;
  padding: number;
  dilation: number;
  kernel: number;
  effective: number;
  stride: number;
  size_out: number;
  ceil_mode: boolean;
}

/** One line per spatial dimension: the output-size arithmetic with its numbers, and the
 * effective kernel when dilation widens it: "⌊(20 + 2·0 − 4·(3 − 1) − 1) / 1⌋ + 1 = 12 · k 3, d 4 → 9". */
export function windowLines(windows: readonly WindowLike[]): string[] {
  return windows.map((w) => {
    const [open, close] = w.ceil_mode ? ["⌈", "⌉"] : ["⌊", "⌋"];
    const sum = `${open}(${w.size_in} + 2·${w.padding} − ${w.dilation}·(${w.kernel} − 1) − 1) / ${w.stride}${close} + 1 = ${w.size_out}`;
    return w.dilation > 1 ? `${sum} · k ${w.kernel}, d ${w.dilation} → ${w.effective}` : sum;
  });
}

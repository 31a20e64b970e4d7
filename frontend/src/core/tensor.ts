// Tensor payloads decoded into numbers, with index helpers for heatmaps and tables.
import type { TensorPayload } from "../api/types";

export interface Tensor {
  shape: number[];
  data: Float64Array;
  /** The tensor's own dtype (float32...): the digits an element means (core/numbers.ts). */
  dtype?: string;
}

function flatten(values: unknown, out: number[]): void {
  if (Array.isArray(values)) for (const v of values) flatten(v, out);
  else out.push(values === null ? Number.NaN : Number(values));
}

export function decode(payload: TensorPayload | null | undefined): Tensor | null {
  if (!payload?.data) return null;
  const { data } = payload;
  if (data.encoding === "list") {
    const out: number[] = [];
    flatten(data.values, out);
    return { shape: payload.shape, data: Float64Array.from(out), dtype: payload.dtype };
  }
  const bin = atob(data.b64 ?? "");
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const size = { float32: 4, float64: 8, int64: 8, uint8: 1 }[data.dtype];
  const n = Math.floor(bytes.length / size);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    out[i] =
      data.dtype === "float32"
        ? view.getFloat32(o, true)
        : data.dtype === "float64"
          ? view.getFloat64(o, true)
          : data.dtype === "int64"
            ? Number(view.getBigInt64(o, true))
            : view.getUint8(o);
  }
  return { shape: payload.shape, data: out, dtype: payload.dtype };
}

/** The tensor seen as a grid of 2-D maps: rows x cols of maps, each h x w (scalars and vectors as one row). */
export interface Maps {
  gridRows: number;
  gridCols: number;
  /** How many maps there are (the last grid row may be partly empty). */
  count: number;
  h: number;
  w: number;
}

export function asMaps(shape: number[]): Maps {
  if (shape.length === 0) return { gridRows: 1, gridCols: 1, count: 1, h: 1, w: 1 };
  if (shape.length === 1) return { gridRows: 1, gridCols: 1, count: 1, h: 1, w: shape[0] };
  if (shape.length === 2) return { gridRows: 1, gridCols: 1, count: 1, h: shape[0], w: shape[1] };
  const [h, w] = shape.slice(-2);
  const channels = shape[shape.length - 3];
  const lead = shape.slice(0, -3).reduce((a, b) => a * b, 1);
  const count = lead * channels;
  if (lead > 1 && channels > 1) return { gridRows: lead, gridCols: channels, count, h, w };
  // One batch row or one channel column: wrap the maps into a near-square grid.
  const cols = Math.ceil(Math.sqrt(count));
  return { gridRows: Math.ceil(count / cols), gridCols: cols, count, h, w };
}

/** The multi-index of a flat, row-major position. */
export function unravel(flat: number, shape: number[]): number[] {
  const idx = new Array(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

/** Largest absolute finite value: the colour scale is symmetric about zero. */
export function absMax(data: Float64Array): number {
  let m = 0;
  for (const v of data) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/** What hovering one element of a heatmap says: its index and its value, to 6 significant digits
 * (float32 holds about 7; the full value is in the table and the downloads). */
export function hoverText(index: number, shape: number[], value: number): string {
  return `[${unravel(index, shape).join(", ")}] = ${formatNumber(value, 6)}`;
}

export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

export const shapeText = (shape: number[] | undefined | null) => (shape ? `[${shape.join(", ")}]` : "?");

/** One line for a tensor: its numbers, "(27, 12, 75)", when it has at most `most` and they came
 * with it; else its shape, mean and norm. */
export function lineText(payload: TensorPayload, most = 8): string {
  const t = decode(payload);
  if (t && t.data.length <= most) {
    const numbers = Array.from(t.data, (v) => formatNumber(v));
    return t.shape.length === 0 ? numbers[0] : `(${numbers.join(", ")})`;
  }
  const s = payload.stats;
  return `${shapeText(payload.shape)} · mean ${formatNumber(s.mean)} · ‖·‖ ${formatNumber(s.norm)}`;
}

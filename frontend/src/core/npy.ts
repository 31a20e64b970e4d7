// Write a tensor as a NumPy .npy file (format 1.0, little-endian float64).
import type { Tensor } from "./tensor";

export function toNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(", ")})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += `${" ".repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + t.data.length * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, 10 + header.length);
  t.data.forEach((v, i) => {
    view.setFloat64(i * 8, v, true);
  });
  return out;
}

/** Nested lists in the tensor's shape, non-finite numbers as null. */
export function toNested(t: Tensor): unknown {
  const build = (d: number, offset: number): unknown => {
    if (d === t.shape.length) {
      const v = t.data[offset];
      return Number.isFinite(v) ? v : null;
    }
    const stride = t.shape.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.shape[d] }, (_, i) => build(d + 1, offset + i * stride));
  };
  return build(0, 0);
}

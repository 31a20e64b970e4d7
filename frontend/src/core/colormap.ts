// A diverging colour map centred on zero: blue for negative, white for zero, red for positive.
const NEG = [33, 102, 172];
const MID = [247, 247, 247];
const POS = [178, 24, 43];

/** RGB of v on a scale from -limit to +limit; NaN shows grey. */
export function diverging(v: number, limit: number): [number, number, number] {
  const px = new Uint8ClampedArray(4);
  divergingInto(px, 0, v, limit);
  return [px[0], px[1], px[2]];
}

export const cssColor = (rgb: [number, number, number]) => `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;

/** Writes the colour of v as opaque RGBA into `px` at byte offset `at`, with no allocation, for
 * filling ImageData; `diverging` is built on it. */
export function divergingInto(px: Uint8ClampedArray, at: number, v: number, limit: number): void {
  if (Number.isNaN(v)) {
    px[at] = px[at + 1] = px[at + 2] = 150;
  } else {
    const t = limit > 0 ? Math.max(-1, Math.min(1, v / limit)) : 0;
    const end = t < 0 ? NEG : POS;
    const a = Math.abs(t);
    // Math.round explicitly: a Uint8ClampedArray would round halves to even.
    px[at] = Math.round(MID[0] + (end[0] - MID[0]) * a);
    px[at + 1] = Math.round(MID[1] + (end[1] - MID[1]) * a);
    px[at + 2] = Math.round(MID[2] + (end[2] - MID[2]) * a);
  }
  px[at + 3] = 255;
}

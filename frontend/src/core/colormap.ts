// A diverging colour map centred on zero: blue for negative, white for zero, red for positive.
const NEG = [33, 102, 172];
const MID = [247, 247, 247];
const POS = [178, 24, 43];

/** RGB of v on a scale from -limit to +limit; NaN shows grey. */
export function diverging(v: number, limit: number): [number, number, number] {
  if (Number.isNaN(v)) return [150, 150, 150];
  const t = limit > 0 ? Math.max(-1, Math.min(1, v / limit)) : 0;
  const end = t < 0 ? NEG : POS;
  const a = Math.abs(t);
  return [0, 1, 2].map((i) => Math.round(MID[i] + (end[i] - MID[i]) * a)) as [number, number, number];
}

export const cssColor = (rgb: [number, number, number]) => `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;

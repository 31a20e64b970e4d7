// A number as its dtype means it: a float32 holds about 7 significant digits, so the float64 it is
// decoded into (4.070731163024902) says more than the tensor does. Its shortest decimal that reads
// back as the same float32 (4.070731) is exact and no longer.

/** The shortest decimal that is this float32 again: at most 9 significant digits. */
export function float32Text(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(v.toPrecision(digits)));
    if (Math.fround(Number(text)) === v) return text;
  }
  return String(Number(v.toPrecision(9)));
}

/** An element exactly as its tensor holds it: float32 as above; float64 and integers as
 * JavaScript's shortest round trip (int64 past 2^53 was already rounded by decoding). */
export function exactText(v: number, dtype: string | undefined): string {
  if (dtype === "float32") return float32Text(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  return String(v);
}

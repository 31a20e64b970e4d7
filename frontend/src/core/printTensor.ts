// A tensor's numbers as PyTorch prints them: torch._tensor_str's rules, so that the node shows what
// print(t) shows in a notebook. One precision for the whole tensor (4 decimals, or scientific
// notation when the magnitudes span more than 1000x or pass 1e8 or go below 1e-4), "3." for a
// float tensor of whole numbers, elements padded to one width, nested brackets for each dimension,
// lines wrapped at `linewidth`. Rounding is Python's: to nearest, ties to even, on the exact binary
// value (JavaScript's toFixed rounds ties up). torch summarises tensors of over 1000 elements with
// "..."; this does not, and is meant for small ones.
import type { Tensor } from "./tensor";

export interface PrintOptions {
  /** torch's PRINT_OPTS.linewidth (80). */
  linewidth?: number;
  /** Columns already taken left of the opening bracket: 7 for "tensor(" as print(t) has it. */
  indent?: number;
}

const PRECISION = 4; // torch's default PRINT_OPTS.precision

/** The first `keep` digits of a digit string, rounded half to even by the digits after them.
 * `exact` is how toFixed/toExponential spell the value with 30 digits more than are kept: enough
 * that only an exact tie reads as a 5 followed by zeros. */
function roundHalfEven(exact: string, keep: number): string {
  const head = exact.slice(0, keep);
  const rest = exact.slice(keep);
  const first = rest.charCodeAt(0) - 48;
  const tail = /[1-9]/.test(rest.slice(1));
  const last = head.length ? head.charCodeAt(head.length - 1) - 48 : 0;
  const up = first > 5 || (first === 5 && (tail || last % 2 === 1));
  if (!up) return head;
  // Add one to the last kept digit, carrying.
  const digits = head.split("");
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === "9") digits[i--] = "0";
  if (i >= 0) digits[i] = String(Number(digits[i]) + 1);
  else digits.unshift("1");
  return digits.join("");
}

const negative = (v: number) => v < 0 || Object.is(v, -0);

/** Python's f"{v:.{decimals}f}". */
export function pyFixed(v: number, decimals: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const [int, frac = ""] = Math.abs(v)
    .toFixed(Math.min(100, decimals + 30))
    .split(".");
  const rounded = roundHalfEven(int + frac, int.length + decimals);
  const intLen = rounded.length - decimals; // a carry may have lengthened it
  const body = decimals ? `${rounded.slice(0, intLen)}.${rounded.slice(intLen)}` : rounded;
  return (negative(v) ? "-" : "") + body;
}

/** Python's f"{v:.{decimals}e}": the exponent signed and at least two digits. */
export function pyExp(v: number, decimals: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const sign = negative(v) ? "-" : "";
  if (v === 0) return `${sign}${(0).toFixed(decimals)}e+00`;
  const [mantissa, e] = Math.abs(v)
    .toExponential(Math.min(100, decimals + 30))
    .split("e");
  let exponent = Number(e);
  let digits = roundHalfEven(mantissa.replace(".", ""), decimals + 1);
  if (digits.length > decimals + 1) {
    digits = digits.slice(0, decimals + 1); // 9.99995 -> 10.0000: one more power of ten
    exponent += 1;
  }
  const m = decimals ? `${digits[0]}.${digits.slice(1)}` : digits;
  const ex = `${Math.abs(exponent)}`.padStart(2, "0");
  return `${sign}${m}e${exponent < 0 ? "-" : "+"}${ex}`;
}

/** torch._tensor_str._Formatter: one way of writing every element of the tensor. */
class Formatter {
  readonly floating: boolean;
  intMode = true;
  sciMode = false;
  width = 1;

  constructor(
    data: Float64Array,
    private readonly dtype: string,
  ) {
    this.floating = dtype === "float32" || dtype === "float64";
    if (!this.floating) {
      for (const v of data) this.width = Math.max(this.width, this.plain(v).length);
      return;
    }
    const finite = Array.from(data).filter((v) => Number.isFinite(v) && v !== 0);
    if (!finite.length) return;
    const abs = finite.map(Math.abs);
    const min = Math.min(...abs);
    const max = Math.max(...abs);
    this.intMode = finite.every((v) => v === Math.ceil(v));
    this.sciMode = max / min > 1000 || max > 1e8 || min < 1e-4;
    for (const v of finite) {
      const text = this.sciMode
        ? pyExp(v, PRECISION)
        : this.intMode
          ? `${pyFixed(v, 0)}.`
          : pyFixed(v, PRECISION);
      this.width = Math.max(this.width, text.length);
    }
  }

  private plain(v: number): string {
    if (this.dtype === "bool") return v ? "True" : "False";
    return Number.isNaN(v) ? "nan" : String(v);
  }

  format(v: number): string {
    let text: string;
    if (!this.floating) text = this.plain(v);
    else if (this.sciMode) text = pyExp(v, PRECISION);
    else if (this.intMode) text = pyFixed(v, 0) + (Number.isFinite(v) ? "." : "");
    else text = pyFixed(v, PRECISION);
    return text.padStart(this.width, " ");
  }
}

function vectorText(data: Float64Array, from: number, n: number, f: Formatter, indent: number, line: number) {
  const perLine = Math.max(1, Math.floor((line - indent) / (f.width + 2)));
  const items = Array.from({ length: n }, (_, i) => f.format(data[from + i]));
  const lines: string[] = [];
  for (let i = 0; i < n; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
  return `[${lines.join(`,\n${" ".repeat(indent + 1)}`)}]`;
}

function nestedText(
  t: Tensor,
  dim: number,
  from: number,
  f: Formatter,
  indent: number,
  line: number,
): string {
  const rank = t.shape.length - dim;
  if (rank === 0) return f.format(t.data[from]);
  if (rank === 1) return vectorText(t.data, from, t.shape[dim], f, indent, line);
  const step = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const slices = Array.from({ length: t.shape[dim] }, (_, i) =>
    nestedText(t, dim + 1, from + i * step, f, indent + 1, line),
  );
  return `[${slices.join(`,${"\n".repeat(rank - 1)}${" ".repeat(indent + 1)}`)}]`;
}

/** What torch prints inside "tensor(...)": `printTensor(t, "float32", { indent: 7 })` is
 * torch._tensor_str._tensor_str(t, 7). */
export function printTensor(t: Tensor, dtype: string, options: PrintOptions = {}): string {
  const { linewidth = 80, indent = 0 } = options;
  if (t.data.length === 0) return "[]";
  return nestedText(t, 0, 0, new Formatter(t.data, dtype), indent, linewidth);
}

/** Columns a node's numbers wrap at: about what 210 px of 12 px monospace hold. */
export const NODE_COLUMNS = 29;
/** A matrix may widen its node to this many columns so that each row stays on one line. */
export const NODE_WIDE_COLUMNS = 44;

/** A small tensor as its node shows it: torch's text without "tensor(", wrapped to the node; a
 * matrix whose rows fit in NODE_WIDE_COLUMNS keeps each row on a line (`wide`: the node widens). */
export function nodeText(t: Tensor, dtype: string): { text: string; wide: boolean } {
  if (t.shape.length >= 2) {
    const unwrapped = printTensor(t, dtype, { linewidth: Number.POSITIVE_INFINITY });
    const longest = Math.max(...unwrapped.split("\n").map((l) => l.length));
    if (longest <= NODE_WIDE_COLUMNS) return { text: unwrapped, wide: longest > NODE_COLUMNS };
  }
  return { text: printTensor(t, dtype, { linewidth: NODE_COLUMNS }), wide: false };
}

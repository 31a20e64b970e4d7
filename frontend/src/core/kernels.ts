// A conv layer's kernels as training changes them: which parameter holds the first layer's
// kernels, the maps to draw of it (each out channel's kernel over in channel 0), and one colour
// scale for the kernels as drawn and as trained, so that a change of size shows as one.
import type { EvaluateResponse, TensorPayload } from "../api/types";
import { absMax, type Tensor } from "./tensor";

/** Each parameter's value in a snapshot (the step-0 one: the values as drawn). */
export function parameterValues(
  result: EvaluateResponse,
  parameters: string[],
): Record<string, TensorPayload> {
  const out: Record<string, TensorPayload> = {};
  for (const id of parameters) {
    const value = result.nodes[id]?.value;
    if (value) out[id] = value;
  }
  return out;
}

/** The first parameter, in the graph's order, that is a 2-D conv's weight [out, in, kh, kw]. */
export function firstKernels(
  parameters: string[],
  shapeOf: (id: string) => number[] | undefined,
): string | null {
  return parameters.find((id) => shapeOf(id)?.length === 4) ?? null;
}

/** The kernels drawn of a conv weight [out, in, kh, kw]: each out channel's over in channel 0,
 * one map each, as [rows, 8, kh, kw] when out is a multiple of 8 (a grid as wide as the panel),
 * else [out, kh, kw] (a near-square grid). */
export function kernelMaps(weight: Tensor): Tensor {
  const [out, inChannels, kh, kw] = weight.shape;
  const per = kh * kw;
  const data = new Float64Array(out * per);
  for (let o = 0; o < out; o++)
    data.set(weight.data.subarray(o * inChannels * per, o * inChannels * per + per), o * per);
  const shape = out > 8 && out % 8 === 0 ? [out / 8, 8, kh, kw] : [out, kh, kw];
  return { shape, data, dtype: weight.dtype };
}

/** One colour scale for several tensors: the largest |value| of them all (1 when all are 0). */
export function kernelLimit(...tensors: Tensor[]): number {
  const m = Math.max(0, ...tensors.map((t) => absMax(t.data)));
  return m > 0 ? m : 1;
}

/** How far the trained kernels are from the drawn ones: |trained − initial| / |initial| (L2). */
export function relativeChange(initial: Tensor, trained: Tensor): number | null {
  if (initial.data.length !== trained.data.length) return null;
  let d = 0;
  let n = 0;
  for (let i = 0; i < initial.data.length; i++) {
    d += (trained.data[i] - initial.data[i]) ** 2;
    n += initial.data[i] ** 2;
  }
  return n > 0 ? Math.sqrt(d / n) : null;
}

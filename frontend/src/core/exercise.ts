// An exercise, as the document keeps it in meta.exercise: whether gradients are predicted before
// they are shown, and the checks, each a node's value or gradient the student's graph must match
// (the server compares them on every run: the answer's `checks`). React-free, tested on its own.
import type { Check, CheckResult, Exercise, TensorPayload } from "../api/types";
import { decode, shapeText } from "./tensor";

export type CheckOf = Check["of"];
type Meta = Record<string, unknown> | undefined;

/** What a document's checks may hold in all (the server's graph_meta.MAX_CHECK_ELEMENTS). */
export const MAX_CHECK_ELEMENTS = 65_536;

export function exerciseOf(meta: Meta): Exercise | null {
  const e = meta?.exercise as Exercise | null | undefined;
  return e && typeof e === "object" ? e : null;
}

export const checksOf = (meta: Meta): Check[] => exerciseOf(meta)?.checks ?? [];
export const predictOf = (meta: Meta): boolean => exerciseOf(meta)?.predict === true;

/** `meta` with `exercise` in place; an exercise that asks for nothing leaves meta without one. */
function withExercise(meta: Meta, exercise: Exercise): Record<string, unknown> {
  const { exercise: _old, ...rest } = meta ?? {};
  return exercise.predict || exercise.checks?.length ? { ...rest, exercise } : rest;
}

export function setPredict(meta: Meta, on: boolean): Record<string, unknown> {
  return withExercise(meta, { checks: checksOf(meta), predict: on });
}

export const sameCheck = (c: Pick<Check, "node" | "of">, node: string, of: CheckOf) =>
  c.node === node && c.of === of;

/** `check` in place of any check of the same node and tensor. */
export function putCheck(meta: Meta, check: Check): Record<string, unknown> {
  const checks = checksOf(meta).filter((c) => !sameCheck(c, check.node, check.of));
  return withExercise(meta, { predict: predictOf(meta), checks: [...checks, check] });
}

export function removeCheck(meta: Meta, node: string, of: CheckOf): Record<string, unknown> {
  const checks = checksOf(meta).filter((c) => !sameCheck(c, node, of));
  return withExercise(meta, { predict: predictOf(meta), checks });
}

/** A node renamed: its checks follow it (a check of a node that is gone stays: the student may
 * have to build it). */
export function renameInChecks(meta: Meta, from: string, to: string): Meta {
  const checks = checksOf(meta);
  if (!checks.some((c) => c.node === from)) return meta;
  const renamed = checks.map((c) => (c.node === from ? { ...c, node: to } : c));
  return withExercise(meta, { predict: predictOf(meta), checks: renamed });
}

/** The check that takes `payload` (this run's value or gradient of `node`) as the expected one,
 * or why it cannot: its data did not come with the run, it is not finite, or it is too large. */
export function checkFromPayload(
  meta: Meta,
  node: string,
  of: CheckOf,
  payload: TensorPayload | null | undefined,
): Check | string {
  const what = of === "value" ? "value" : "gradient";
  if (!payload) return `${node} has no ${what} in this run to take as the expected one.`;
  const others = checksOf(meta)
    .filter((c) => !sameCheck(c, node, of))
    .reduce((n, c) => n + c.values.length, 0);
  if (others + payload.numel > MAX_CHECK_ELEMENTS) {
    return `${node}'s ${what} has ${payload.numel.toLocaleString("en")} elements: an exercise's checks hold at most ${MAX_CHECK_ELEMENTS.toLocaleString("en")} in all.`;
  }
  const tensor = decode(payload);
  if (!tensor) return `${node}'s ${what} came without its numbers: load the whole tensor, then check it.`;
  if (tensor.data.some((v) => !Number.isFinite(v))) {
    return `${node}'s ${what} holds NaN or inf: there is nothing finite to match.`;
  }
  // A float32 number reads back exactly from 9 significant digits: the document stays short.
  const round = payload.dtype === "float64" ? (v: number) => v : (v: number) => Number(v.toPrecision(9));
  return { node, of, shape: [...payload.shape], values: Array.from(tensor.data, round) };
}

export interface CheckSummary {
  passed: number;
  total: number;
  text: string;
}

/** "3 of 4 checks pass", or what to do before there is anything to say. */
export function checkSummary(checks: Check[], results: CheckResult[] | null | undefined): CheckSummary {
  const total = checks.length;
  if (!results) {
    const text = total ? `${total} check${total > 1 ? "s" : ""}: run the graph to see if it matches.` : "";
    return { passed: 0, total, text };
  }
  const passed = results.filter((r) => r.passed).length;
  const all = results.length;
  const text = all === 1 ? `The check ${passed ? "passes" : "fails"}.` : `${passed} of ${all} checks pass.`;
  return { passed, total: all, text };
}

/** The verdicts on one node: its value's, its gradient's. */
export const resultsOf = (results: CheckResult[] | null | undefined, node: string): CheckResult[] =>
  (results ?? []).filter((r) => r.node === node);

/** One line for a check: "w1 gradient [5, 5]". */
export const checkLabel = (c: Pick<Check, "node" | "of" | "shape">) =>
  `${c.node} ${c.of === "value" ? "value" : "gradient"} ${shapeText(c.shape)}`;

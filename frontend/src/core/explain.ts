// The sentences that explain a gradient: why a shared node's is a sum, and what the one shown is
// after N backward passes. One place for each wording, so the node's badge, the inspector and the
// toolbar cannot drift apart; React-free, so each is tested.
import type { GradContribution, RunInfo, SharedNode, Use } from "../api/types";
import { parseHandle } from "./ports";

type RunLike = Pick<RunInfo, "output" | "grad_output" | "backward_passes"> &
  Partial<Pick<RunInfo, "zero_grad">>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const allOf = (n: number) => (n === 2 ? "both uses" : `all ${n} uses`);
const placeOf = (u: Use) => `${u.consumer}.${u.port}`;

/** "feeds 2 ops (x1, x3)"; an op taking the tensor on two ports (w @ w, cat([x, x])) is named
 * with its ports, where "2 ops (c, c)" would read as a typo. */
function feeds(uses: Use[]): string {
  const ops = [...new Set(uses.map((u) => u.consumer))];
  if (ops.length === uses.length) return `feeds ${plural(ops.length, "op")} (${ops.join(", ")})`;
  return `feeds ${plural(ops.length, "op")} through ${uses.length} ports (${uses.map(placeOf).join(", ")})`;
}

/** The badge of a node in the server's `shared` list, and its tooltip. */
export function sharedBadge(node: SharedNode): { text: string; title: string } {
  return { text: `shared ×${node.uses.length}`, title: sharedSentence(node) };
}

/** "w1 feeds 2 ops (x1, x3); its gradient is the sum of both uses". */
export function sharedSentence(node: SharedNode): string {
  return `${node.id} ${feeds(node.uses)}; its gradient is the sum of ${allOf(node.uses.length)}`;
}

/** For a node used several times that the server does not list as shared (the input x of the
 * 4.1 DAG): where it is used, and why nothing is summed. Never claims a sum. `checked`: the last
 * validation passed, so the server's list is current (a graph with errors comes without one). */
export function unsharedSentence(
  id: string,
  uses: Use[],
  requiresGrad: boolean | undefined,
  checked: boolean,
): string {
  const where = `${id} ${feeds(uses)}`;
  if (!checked || requiresGrad === undefined) {
    return `${where}; whether its gradient sums them shows once the graph checks out.`;
  }
  if (!requiresGrad) return `${where}, but it requires no grad: it has no gradient to sum.`;
  // Requires grad, yet not shared: the other uses send no gradient back (the registry says which).
  return `${where}, but at most one of those uses sends a gradient back: nothing is summed.`;
}

/** The edge's handle as the server names the port: "tensors.1" is "tensors[1]". */
export function portName(handle: string): string {
  const { port, index } = parseHandle(handle);
  return index === null ? port : `${port}[${index}]`;
}

/** "d q / d x1", or "d sum(q) / d x1" for a non-scalar loss (grad_output 'sum' and 'ones' both
 * differentiate the sum of its elements). */
function derivative(id: string, run: RunLike): string {
  const output = run.output ?? "loss";
  return `d ${run.grad_output ? `sum(${output})` : output} / d ${id}`;
}

/** How many passes' gradients the .grad shown adds up: all of them, or only the last with
 * zero_grad before each. */
export function accumulatedPasses(run: RunLike): number {
  return run.zero_grad ? 1 : run.backward_passes;
}

/** What the gradient shown for `id` is, from the run that made it. After one backward pass,
 * d q / d x1; after N, .grad holds the N passes' gradients added up, and is named as that; with
 * zero_grad between them, the last pass's alone. */
export function gradLabel(id: string, run: RunLike): string {
  const n = run.backward_passes;
  const d = derivative(id, run);
  if (n > 1 && run.zero_grad) return `${id}.grad after the last of ${n} passes, zeroed before each (= ${d})`;
  return n > 1 ? `${id}.grad accumulated over ${n} backward passes (= ${n} × ${d})` : d;
}

/** The tooltip of the canvas's Gradients toggle: what the nodes will show. */
export function gradModeTitle(run: RunLike | undefined): string {
  if (!run?.output) return "Show each node's gradient (after a run with a loss)";
  const n = run.backward_passes;
  const d = derivative("node", run);
  if (n > 1 && run.zero_grad)
    return `Show each node's .grad after the last of ${n} passes, zeroed before each (= ${d})`;
  return n > 1
    ? `Show each node's .grad, accumulated over ${n} backward passes (= ${n} × ${d})`
    : `Show each node's gradient, ${d}`;
}

/** "w1.grad = (via x1) + (via x3)"; a consumer met twice is told apart by its port. */
export function contributionsHeading(id: string, contributions: GradContribution[]): string {
  const count = new Map<string, number>();
  for (const c of contributions) count.set(c.consumer, (count.get(c.consumer) ?? 0) + 1);
  const terms = contributions.map(
    (c) => `(via ${(count.get(c.consumer) ?? 0) > 1 ? placeOf(c) : c.consumer})`,
  );
  return `${id}.grad = ${terms.join(" + ")}`;
}

/** The line under that heading. Each use's share accumulates over the passes as .grad does, so
 * after N passes the sum is still the .grad shown, not one pass's gradient. */
export function contributionsNote(id: string, count: number, passes: number): string {
  const note = `${id} is used ${count} times; autograd adds the gradient each use sends back.`;
  return passes > 1 ? `${note} Each share is accumulated over the ${passes} backward passes too.` : note;
}

/** The tooltip of a node's version badge (its tensor's _version after the run). */
export function versionTitle(version: number): string {
  const times = version === 1 ? "once" : `${version} times`;
  return `_version ${version}: this tensor was overwritten in place ${times} after it was made; an autograd node that saved it at an earlier version can no longer use it`;
}

// Stepping through backward as autograd ran it (?backward_steps=true): what one step shows — the
// autograd node, the gradient that arrived, the op's local rule with the actual shapes written
// under its symbols, what it sent on — and how a shared leaf's .grad fills up use by use.
// AccumulateGrad runs once per pass with the sum of what the leaf's uses sent it, so the fill is
// read from the sends into it. React-free, so that it is tested on its own.
import type {
  AutogradNode,
  BackwardGraph,
  BackwardStep,
  EvaluateResponse,
  OpInfo,
  TensorPayload,
} from "../api/types";

/** One wire of the editor's graph: `source` feeds `port` of `consumer`. */
export interface Wire {
  source: string;
  consumer: string;
  port: string;
}

export interface Sent {
  to: AutogradNode;
  slot: number;
  grad: TensorPayload;
  /** The ports of this step's op that the receiving node's owner is wired to; empty when the
   * gradient stays inside the op (linear's AddmmBackward0 to its own TBackward0). */
  ports: string[];
}

export interface Received {
  step: number;
  /** The node whose op sent it (x3 for the 4.1 DAG's w1 through x3 = w1 @ s). */
  from: string | null;
  grad: TensorPayload;
}

/** A leaf's .grad in one pass, as far as the steps so far have filled it. */
export interface LeafFill {
  leaf: string;
  autograd: number;
  pass: number;
  /** What its uses sent, in the order autograd ran them, up to the current step. */
  received: Received[];
  /** How many sends it gets in this pass in all. */
  uses: number;
  /** The sum AccumulateGrad added to .grad, once it has run (this pass). */
  accumulated: TensorPayload | null;
}

export interface StepView {
  index: number;
  total: number;
  pass: number;
  node: AutogradNode;
  owner: string | null;
  /** The op of the owner (for AccumulateGrad, the leaf's source op). */
  op: string | null;
  incoming: (TensorPayload | null)[];
  sent: Sent[];
  /** The leaves this step sends to, or accumulates into. */
  fills: LeafFill[];
}

export const isAccumulate = (n: AutogradNode) => n.name === "AccumulateGrad";

/** The steps of a run, when it recorded them (and its backward graph, which they name nodes of). */
export function runSteps(
  run: EvaluateResponse | null,
): { steps: BackwardStep[]; graph: BackwardGraph } | null {
  if (!run?.backward_steps || !run.backward_graph) return null;
  return { steps: run.backward_steps, graph: run.backward_graph };
}

/** Step `index` of the run, everything the stepper shows; null when there is no such step. */
export function stepView(run: EvaluateResponse, wires: Wire[], index: number): StepView | null {
  const recorded = runSteps(run);
  const step = recorded?.steps[index];
  if (!recorded || !step) return null;
  const { graph, steps } = recorded;
  const node = graph.nodes[step.node];
  const owner = node.node ?? null;
  const sent = step.sent.map((s): Sent => {
    const to = graph.nodes[s.to];
    const ports =
      to.node && to.node !== owner
        ? wires.filter((w) => w.consumer === owner && w.source === to.node).map((w) => w.port)
        : [];
    return { to, slot: s.slot, grad: s.grad, ports };
  });
  const leaves = isAccumulate(node) ? [node] : sent.map((s) => s.to).filter(isAccumulate);
  return {
    index,
    total: steps.length,
    pass: step.backward_pass,
    node,
    owner,
    op: owner ? (run.nodes[owner]?.op ?? null) : null,
    incoming: step.grad_outputs,
    sent,
    fills: [...new Set(leaves)].map((leaf) => leafFill(graph, steps, leaf.id, index)),
  };
}

/** What AccumulateGrad `autograd` has been sent in the current step's pass, up to that step. */
export function leafFill(
  graph: BackwardGraph,
  steps: BackwardStep[],
  autograd: number,
  index: number,
): LeafFill {
  const pass = steps[index]?.backward_pass ?? 0;
  const received: Received[] = [];
  let uses = 0;
  let accumulated: TensorPayload | null = null;
  steps.forEach((s, i) => {
    if (s.backward_pass !== pass) return;
    for (const t of s.sent) {
      if (t.to !== autograd) continue;
      uses++;
      if (i <= index) received.push({ step: i, from: graph.nodes[s.node].node ?? null, grad: t.grad });
    }
    if (s.node === autograd && i <= index) accumulated = s.grad_outputs[0] ?? null;
  });
  return { leaf: graph.nodes[autograd].node ?? "?", autograd, pass, received, uses, accumulated };
}

/** Where the fill stands, in words: "1 of 2 uses so far", "the sum of 2 uses, added to .grad". */
export function fillText(f: LeafFill): string {
  if (f.accumulated) {
    const what = f.uses > 1 ? `the sum of its ${f.uses} uses' shares` : "its one use's gradient";
    return `${f.leaf}.grad ${f.pass > 0 ? "+=" : "="} ${what} (AccumulateGrad ran)`;
  }
  if (f.uses > 1) return `${f.leaf}: ${f.received.length} of ${f.uses} uses have sent their share so far`;
  return `${f.leaf}: its gradient has arrived; AccumulateGrad adds it to .grad next`;
}

/** The step index after a key or a button: first, back, forward, last, kept in range. */
export function moved(index: number, total: number, move: "first" | "back" | "forward" | "last"): number {
  if (total <= 0) return 0;
  const next = { first: 0, back: index - 1, forward: index + 1, last: total - 1 }[move];
  return Math.min(total - 1, Math.max(0, next));
}

// --- the rule, with shapes ---------------------------------------------------------------------

/** A tensor's symbol in a formula: \mathrm{grad\_out}. */
export const symbol = (name: string) => `\\mathrm{${name.replaceAll("_", "\\_")}}`;

/** The shapes of the symbols of an op's rule, from the run: each port's tensor and its gradient,
 * out and grad_out (a list port's tensors have one shape each: left out). */
export function ruleShapes(run: EvaluateResponse, wires: Wire[], owner: string): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  const out = run.nodes[owner]?.shape;
  if (out) {
    shapes.out = out;
    shapes.grad_out = out;
  }
  const byPort = new Map<string, string[]>();
  for (const w of wires)
    if (w.consumer === owner) byPort.set(w.port, [...(byPort.get(w.port) ?? []), w.source]);
  for (const [port, sources] of byPort) {
    const shape = sources.length === 1 ? run.nodes[sources[0]]?.shape : undefined;
    if (!shape) continue;
    shapes[port] = shape;
    shapes[`grad_${port}`] = shape;
  }
  return shapes;
}

const shapeTex = (shape: number[]) => (shape.length ? shape.join("{\\times}") : "\\text{scalar}");

/** The formula with each tensor's shape written under its first appearance. */
export function withShapes(tex: string, shapes: Record<string, number[]>): string {
  let out = tex;
  for (const [name, shape] of Object.entries(shapes)) {
    const sym = symbol(name);
    const at = out.indexOf(sym);
    if (at < 0) continue;
    // \mathrm{input} is not \mathrm{input\_...}: the symbol must end where the brace closes.
    const under = `\\underset{\\scriptstyle ${shapeTex(shape)}}{${sym}}`;
    out = out.slice(0, at) + under + out.slice(at + sym.length);
  }
  return out;
}

export interface RuleLine {
  port: string;
  /** grad_<port> = formula, as LaTeX, shapes written under the symbols. */
  tex: string;
  /** Whether the port's tensor gets a gradient in this run (it requires grad). */
  live: boolean;
}

/** The op's rule as the stepper shows it, one line per port; null when the op states none. */
export function ruleLines(
  op: OpInfo,
  run: EvaluateResponse,
  wires: Wire[],
  owner: string,
): RuleLine[] | null {
  if (!op.rule) return null;
  const shapes = ruleShapes(run, wires, owner);
  return Object.entries(op.rule.formulas).map(([port, formula]) => {
    const sources = wires.filter((w) => w.consumer === owner && w.port === port).map((w) => w.source);
    const live = sources.some((s) => run.nodes[s]?.requires_grad);
    const lhs = symbol(`grad_${port}`);
    return { port, tex: withShapes(`${lhs} = ${formula}`, shapes), live };
  });
}

/** AccumulateGrad's own rule, for the leaf it adds into: .grad gets the sum of the uses. */
export function accumulateTex(fill: LeafFill): string {
  const grad = `${symbol(fill.leaf)}.\\mathrm{grad}`;
  const parts = fill.received.map((r) => `\\mathrm{from}\\ ${symbol(r.from ?? "?")}`);
  const sum = parts.length ? parts.join(" + ") : "0";
  return `${grad} \\mathrel{${fill.pass > 0 ? "+" : ""}=} ${sum}`;
}

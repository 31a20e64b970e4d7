// The stepper under the backward graph: walk the backward pass in the order autograd ran it
// (first, back, forward, last; keys Home , . End, Esc to close). Each step lights its autograd
// node and the node whose op made it on both graphs, and shows the gradient that arrived, the
// op's rule with the actual shapes, what it sent on, and how a leaf's .grad fills up use by use.
import { useEffect, useMemo } from "react";
import { useShallow } from "zustand/react/shallow";
import type { EvaluateResponse, OpInfo, TensorPayload } from "../api/types";
import { parseHandle } from "../core/ports";
import {
  accumulateTex,
  fillText,
  isAccumulate,
  type LeafFill,
  moved,
  ruleLines,
  runSteps,
  type StepView,
  stepView,
  type Wire,
} from "../core/steps";
import { decode, lineText, shapeText } from "../core/tensor";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useSteps } from "../store/stepsStore";
import { Heatmap } from "./Heatmap";
import { TexMath } from "./TexMath";
import "./backward-steps.css";

type Move = "first" | "back" | "forward" | "last";
const KEYS: Record<string, Move> = { Home: "first", ",": "back", ".": "forward", End: "last" };

const typing = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

function go(move: Move, total: number) {
  const { index, show } = useSteps.getState();
  show(index === null ? (move === "last" ? total - 1 : 0) : moved(index, total, move), null);
}

/** A gradient on one line: its numbers when few, else its shape, mean and norm, and a heatmap. */
const BUTTONS: { move: Move; label: string; title: string }[] = [
  { move: "first", label: "«", title: "First step (Home)" },
  { move: "back", label: "‹", title: "Back a step (,)" },
  { move: "forward", label: "›", title: "Forward a step (.)" },
  { move: "last", label: "»", title: "Last step (End)" },
];

function MoveButton({
  move,
  label,
  title,
  total,
  index,
}: {
  move: Move;
  label: string;
  title: string;
  total: number;
  index: number | null;
}) {
  const stuck = (move === "back" && index === 0) || (move === "forward" && index === total - 1);
  return (
    <button
      type="button"
      data-testid={`step-${move}`}
      disabled={!total || stuck}
      onClick={() => go(move, total)}
      title={title}
    >
      {label}
    </button>
  );
}

function Tensor({ payload, testId }: { payload: TensorPayload; testId?: string }) {
  const tensor = useMemo(() => (payload.numel > 6 ? decode(payload) : null), [payload]);
  const few = payload.numel <= 6 && payload.data;
  return (
    <div className="step-tensor" data-testid={testId}>
      {few && <span className="mono">{shapeText(payload.shape)} </span>}
      <span className={few ? "mono" : "muted"}>{lineText(payload, 6)}</span>
      {tensor && <Heatmap tensor={tensor} maxWidth={150} maxHeight={40} gap={1} />}
    </div>
  );
}

function Fill({ fill }: { fill: LeafFill }) {
  return (
    <div className="step-fill" data-testid={`fill-${fill.leaf}`}>
      <div className="step-fill-head" data-testid={`fill-text-${fill.leaf}`}>
        {fillText(fill)}
      </div>
      <ol>
        {fill.received.map((r) => (
          <li key={r.step} data-testid={`fill-from-${fill.leaf}`}>
            from <b>{r.from ?? "?"}</b> <span className="muted">(step {r.step + 1})</span>
            <Tensor payload={r.grad} />
          </li>
        ))}
      </ol>
      {fill.accumulated && (
        <div className="step-sum" data-testid={`fill-sum-${fill.leaf}`}>
          <TexMath tex={accumulateTex(fill)} />
          <Tensor payload={fill.accumulated} />
        </div>
      )}
    </div>
  );
}

function Rule({
  view,
  op,
  run,
  wires,
}: {
  view: StepView;
  op: OpInfo | undefined;
  run: EvaluateResponse;
  wires: Wire[];
}) {
  if (isAccumulate(view.node)) {
    const [fill] = view.fills;
    return (
      <p className="muted">
        AccumulateGrad adds what arrived to <b>{view.owner}</b>.grad
        {fill && fill.uses > 1 ? ": the sum of what each use sent" : ""}.
      </p>
    );
  }
  if (!op || !view.owner) return null;
  const lines = ruleLines(op, run, wires, view.owner);
  if (!lines) {
    return (
      <p className="muted" data-testid="step-no-rule">
        {op.name}: {op.rule_note ?? "no local backward rule is stated for this op."}
      </p>
    );
  }
  return (
    <div data-testid="step-rule">
      {lines.map((l) => (
        <div
          key={l.port}
          className={`step-rule-line${l.live ? "" : " dead"}`}
          title={l.live ? undefined : `${l.port} needs no gradient in this run`}
        >
          <TexMath tex={l.tex} display testId={`rule-${l.port}`} />
        </div>
      ))}
      {op.rule?.where && <p className="muted step-where">{op.rule.where}</p>}
    </div>
  );
}

function Panel({ view, run, wires }: { view: StepView; run: EvaluateResponse; wires: Wire[] }) {
  const op = useGraph((s) => (view.op ? s.ops[view.op] : undefined));
  return (
    <div className="step-panel" data-testid="step-panel">
      <div className="step-title" data-testid="step-title">
        <span className="mono">{view.node.name}</span> {isAccumulate(view.node) ? "into" : "made by"}{" "}
        <b>{view.owner ?? "?"}</b>
        {view.op && !isAccumulate(view.node) && <span className="muted"> ({view.op})</span>}
      </div>
      <section>
        <h5>Arrived: the gradient of its output (grad_out)</h5>
        {view.incoming.map((p, i) =>
          // biome-ignore lint/suspicious/noArrayIndexKey: one per output of the op, in its fixed order
          p ? <Tensor key={i} payload={p} testId="step-incoming" /> : <div key={i}>none</div>,
        )}
      </section>
      <section>
        <h5>{isAccumulate(view.node) ? "What AccumulateGrad does" : "The rule"}</h5>
        <Rule view={view} op={op} run={run} wires={wires} />
      </section>
      {!isAccumulate(view.node) && (
        <section>
          <h5>Sent on</h5>
          {view.sent.length === 0 && <p className="muted">nothing: no input of it needs a gradient</p>}
          <ul className="step-sent">
            {view.sent.map((s) => (
              <li key={`${s.to.id}-${s.slot}`} data-testid="step-sent">
                → <span className="mono">{s.to.name}</span> {isAccumulate(s.to) ? "into" : "of"}{" "}
                <b>{s.to.node}</b>
                {s.ports.length > 0 && <span className="muted"> as grad_{s.ports.join(", grad_")}</span>}
                <Tensor payload={s.grad} />
              </li>
            ))}
          </ul>
        </section>
      )}
      {view.fills.length > 0 && (
        <section>
          <h5>A leaf's .grad</h5>
          {view.fills.map((f) => (
            <Fill key={f.autograd} fill={f} />
          ))}
        </section>
      )}
    </div>
  );
}

export function BackwardStepper() {
  const run = useResults((s) => s.run);
  const record = useSteps((s) => s.record);
  const index = useSteps((s) => s.index);
  const edges = useGraph(useShallow((s) => s.graph.edges));
  const wires = useMemo(
    () =>
      edges.map(
        (e): Wire => ({ source: e.source, consumer: e.target, port: parseHandle(e.targetHandle).port }),
      ),
    [edges],
  );
  const recorded = runSteps(run);
  const total = recorded?.steps.length ?? 0;
  const view = run && index !== null ? stepView(run, wires, index) : null;

  // What a step lights follows the step shown (a new run starts closed: actions/run.ts).
  useEffect(() => {
    const lit = view
      ? { autograd: view.node.id, owner: view.owner, targets: view.sent.map((s) => s.to.id) }
      : null;
    const state = useSteps.getState();
    if (JSON.stringify(state.lit) !== JSON.stringify(lit)) state.show(state.index, lit);
  }, [view]);
  useEffect(() => {
    if (!total) return;
    const onKey = (e: KeyboardEvent) => {
      if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const move = KEYS[e.key];
      if (move) go(move, total);
      else if (e.key === "Escape" && useSteps.getState().index !== null) useSteps.getState().show(null, null);
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [total]);

  return (
    <div className="stepper" data-testid="stepper">
      <div className="stepper-bar">
        {BUTTONS.slice(0, 2).map((b) => (
          <MoveButton key={b.move} {...b} total={total} index={index} />
        ))}
        <span className="step-count" data-testid="step-count">
          {!run?.backward_graph
            ? "Run to step through backward"
            : !recorded
              ? "Steps not recorded: tick Record steps and run again"
              : !total
                ? "No backward pass ran"
                : index === null
                  ? `${total} steps: press › or .`
                  : `Step ${index + 1} of ${total}${view && view.pass > 0 ? ` · pass ${view.pass + 1}` : ""}`}
        </span>
        {BUTTONS.slice(2).map((b) => (
          <MoveButton key={b.move} {...b} total={total} index={index} />
        ))}
        {index !== null && (
          <button
            type="button"
            className="link"
            data-testid="step-close"
            onClick={() => useSteps.getState().show(null, null)}
            title="Close the stepper (Esc)"
          >
            ✕
          </button>
        )}
        <label
          className="step-record"
          title="Runs with the backward graph shown also record every gradient of every step (?backward_steps=true)"
        >
          <input
            type="checkbox"
            data-testid="step-record"
            checked={record}
            onChange={(e) => useSteps.getState().setRecord(e.target.checked)}
          />{" "}
          Record steps
        </label>
      </div>
      {view && run && <Panel view={view} run={run} wires={wires} />}
    </div>
  );
}

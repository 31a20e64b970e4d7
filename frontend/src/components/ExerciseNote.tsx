// The side note on the canvas: the graph's title and its description (an exercise's
// instructions, Markdown), what predict-then-reveal asks, and how the exercise's checks stand.
// Open, it docks at the canvas's left edge (the canvas fits the graph beside it, covering none of
// it); folded, it is a tab. A graph opens with it open when it is an exercise, else folded.
import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { checkLabel, checkSummary, checksOf, exerciseOf, sameCheck } from "../core/exercise";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useReveal } from "../store/revealStore";
import { MarkdownText } from "./MarkdownText";
import "./exercise.css";

function Predict() {
  const all = useReveal((s) => s.all);
  const { revealAll, hideAll } = useReveal.getState();
  return (
    <div className="note-predict" data-testid="predict-bar">
      <p>
        <b>Predict, then reveal:</b> work out each gradient, then reveal it on its node.
      </p>
      <div className="row">
        {!all && (
          <button type="button" data-testid="reveal-all" onClick={revealAll}>
            Reveal all
          </button>
        )}
        <button type="button" data-testid="hide-all" onClick={hideAll}>
          Hide all again
        </button>
      </div>
    </div>
  );
}

function Checks() {
  const checks = useGraph(useShallow((s) => checksOf(s.graph.meta)));
  const results = useResults((s) => s.run?.checks);
  const summary = checkSummary(checks, results);
  if (!checks.length && !results?.length) return null;
  const shown = results ?? [];
  return (
    <div className="note-checks" data-testid="check-summary">
      <p className={results ? (summary.passed === summary.total ? "pass" : "fail") : "muted"}>
        <b data-testid="check-summary-text">{summary.text}</b>
      </p>
      <ul>
        {checks.map((c) => {
          const r = shown.find((x) => sameCheck(x, c.node, c.of));
          return (
            <li key={`${c.node}.${c.of}`} className={r ? (r.passed ? "pass" : "fail") : ""}>
              <button type="button" className="link" onClick={() => useGraph.getState().select(c.node)}>
                {r ? (r.passed ? "✓" : "✗") : "◎"} {checkLabel(c)}
              </button>
              {r && !r.passed && <div className="muted">{r.message}</div>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function ExerciseNote() {
  const title = useGraph((s) => s.graph.title);
  const description = useGraph((s) => s.graph.description);
  const hasChecks = useGraph((s) => checksOf(s.graph.meta).length > 0);
  const predict = useReveal((s) => s.predict);
  const isExercise = useGraph((s) => exerciseOf(s.graph.meta) !== null);
  const loads = useGraph((s) => s.loadCount);
  const [chosen, setOpen] = useState<boolean | null>(null); // the student's choice, for this graph
  // biome-ignore lint/correctness/useExhaustiveDependencies: another graph loaded starts from its default
  useEffect(() => setOpen(null), [loads]);
  const open = chosen ?? isExercise;
  if (!description && !hasChecks && !predict) return null;
  if (!open) {
    return (
      <button
        type="button"
        className="exercise-note-tab"
        data-testid="exercise-note-open"
        onClick={() => setOpen(true)}
        title="Show the instructions"
      >
        ▸ {isExercise ? "Instructions" : "About this graph"}
      </button>
    );
  }
  return (
    <aside className="exercise-note" data-testid="exercise-note" aria-label="Instructions">
      <header>
        <h3>{title || "Instructions"}</h3>
        <button
          type="button"
          className="link"
          data-testid="exercise-note-close"
          onClick={() => setOpen(false)}
          title="Fold the note away"
        >
          ▾ hide
        </button>
      </header>
      {description && <MarkdownText text={description} className="note-text" testId="exercise-note-text" />}
      {predict && <Predict />}
      <Checks />
    </aside>
  );
}

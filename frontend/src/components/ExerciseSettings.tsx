// The teacher's side of an exercise, under the graph's title and description: predict-then-reveal
// for whoever opens it, and the checks marked so far (each marked in its node's inspector).
import { useShallow } from "zustand/react/shallow";
import { checkLabel, checksOf, predictOf, removeCheck, setPredict } from "../core/exercise";
import { useGraph } from "../store/graphStore";
import { useReadOnly } from "../store/readOnly";

export function ExerciseSettings() {
  const predict = useGraph((s) => predictOf(s.graph.meta));
  const checks = useGraph(useShallow((s) => checksOf(s.graph.meta)));
  const setMeta = (next: Record<string, unknown>) => useGraph.getState().setMeta(next);
  const meta = () => useGraph.getState().graph.meta;
  const readOnly = useReadOnly();
  if (readOnly && !predict && !checks.length) return null;
  return (
    <div className="exercise-settings" data-testid="exercise-settings">
      <h4>Exercise</h4>
      <label>
        <input
          type="checkbox"
          data-testid="exercise-predict"
          checked={predict}
          disabled={readOnly}
          onChange={(e) => setMeta(setPredict(meta(), e.target.checked))}
        />{" "}
        Predict, then reveal: gradients stay hidden until the student reveals them
      </label>
      {checks.length ? (
        <ul className="exercise-checks">
          {checks.map((c) => (
            <li key={`${c.node}.${c.of}`}>
              <button type="button" className="link" onClick={() => useGraph.getState().select(c.node)}>
                {checkLabel(c)}
              </button>{" "}
              {!readOnly && (
                <button
                  type="button"
                  className="link"
                  data-testid={`remove-check-${c.node}-${c.of}`}
                  title="Remove this check"
                  onClick={() => setMeta(removeCheck(meta(), c.node, c.of))}
                >
                  ✕
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">
          No checks yet: run the graph, select a node and tick "Check this node's value" or "its gradient".
        </p>
      )}
    </div>
  );
}

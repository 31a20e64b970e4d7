// In the inspector: the teacher marks this node's value or gradient as a check of the exercise,
// taking this run's tensor as the expected one; after a run, the verdicts.
import { useShallow } from "zustand/react/shallow";
import { type CheckOf, checkFromPayload, checksOf, putCheck, removeCheck, resultsOf } from "../core/exercise";
import { useGraph } from "../store/graphStore";
import { useReadOnly } from "../store/readOnly";
import { useResults } from "../store/resultsStore";

function toggle(id: string, of: CheckOf, on: boolean): void {
  const g = useGraph.getState();
  if (!on) {
    g.setMeta(removeCheck(g.graph.meta, id, of));
    return;
  }
  const result = useResults.getState().run?.nodes[id];
  const check = checkFromPayload(g.graph.meta, id, of, of === "value" ? result?.value : result?.grad);
  if (typeof check === "string") g.notify("error", check);
  else g.setMeta(putCheck(g.graph.meta, check));
}

export function CheckToggles({ id }: { id: string }) {
  const marked = useGraph(
    useShallow((s) =>
      checksOf(s.graph.meta)
        .filter((c) => c.node === id)
        .map((c) => c.of),
    ),
  );
  const result = useResults((s) => s.run?.nodes[id]);
  const verdicts = useResults(useShallow((s) => resultsOf(s.run?.checks, id)));
  const readOnly = useReadOnly();
  if (readOnly && !marked.length) return null;
  const box = (of: CheckOf, label: string, available: boolean) => {
    const on = marked.includes(of);
    return (
      <label title={on || available ? undefined : "Run the graph first: the check takes this run's numbers"}>
        <input
          type="checkbox"
          data-testid={`check-${of}`}
          checked={on}
          disabled={readOnly || (!on && !available)}
          onChange={(e) => toggle(id, of, e.target.checked)}
        />{" "}
        {label}
      </label>
    );
  };
  return (
    <div className="check-toggles" data-testid="check-toggles">
      <h4>Exercise check</h4>
      {box("value", "Check this node's value", Boolean(result))}
      {box("grad", "Check its gradient", Boolean(result?.grad))}
      <p className="muted">A student's graph passes when its run matches this run's numbers.</p>
      {verdicts.map((v) => (
        <p
          key={v.of}
          className={`check-verdict ${v.passed ? "pass" : "fail"}`}
          data-testid={`verdict-${v.of}`}
        >
          {v.passed ? "✓" : "✗"} {v.message}
        </p>
      ))}
    </div>
  );
}

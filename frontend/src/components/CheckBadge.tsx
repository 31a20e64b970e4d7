// On a node of an exercise: ✓ or ✗ for its checks in the last run, or ◎ while none has run.
import { useShallow } from "zustand/react/shallow";
import { checksOf, resultsOf } from "../core/exercise";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";

export function CheckBadge({ id }: { id: string }) {
  const marked = useGraph((s) => checksOf(s.graph.meta).some((c) => c.node === id));
  const verdicts = useResults(useShallow((s) => resultsOf(s.run?.checks, id)));
  if (!marked && !verdicts.length) return null;
  if (!verdicts.length) {
    return (
      <span
        className="badge check"
        data-testid={`check-${id}`}
        data-verdict="unrun"
        title="Checked: run to compare"
      >
        ◎
      </span>
    );
  }
  const pass = verdicts.every((v) => v.passed);
  return (
    <span
      className={`badge check ${pass ? "pass" : "fail"}`}
      data-testid={`check-${id}`}
      data-verdict={pass ? "pass" : "fail"}
      title={verdicts.map((v) => v.message).join("\n")}
    >
      {pass ? "✓" : "✗"}
    </span>
  );
}

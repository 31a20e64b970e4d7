// The gradient check's verdict on one node: ✓ or ✗ with its worst relative error; the tooltip says more.
import { badgeText, badgeTitle } from "../core/analysis";
import { useAnalysis } from "../store/analysisStore";
import "./analysis.css";

export function GradcheckBadge({ id }: { id: string }) {
  const report = useAnalysis((s) => s.check);
  const checked = report?.nodes.find((n) => n.node === id);
  if (!report || !checked) return null;
  return (
    <span
      className={`gradcheck-badge ${checked.ok ? "ok" : "bad"}`}
      data-testid={`gradcheck-${id}`}
      title={badgeTitle(checked, report)}
    >
      {badgeText(checked)}
    </span>
  );
}

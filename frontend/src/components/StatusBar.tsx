// The bottom bar: validation state, the last run, and the latest notice.
import { useEffect, useState } from "react";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";

export function StatusBar() {
  const notice = useGraph((s) => s.notice);
  const count = useGraph((s) => s.graph.nodes.length);
  const r = useResults();
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    if (!notice) return;
    setVisible(true);
    const t = setTimeout(() => setVisible(false), 6000);
    return () => clearTimeout(t);
  }, [notice]);
  const errors = r.validationErrors.length;
  const unlocated = [...r.validationErrors, ...r.runErrors].filter((e) => !e.node);
  return (
    <footer className="statusbar" data-testid="statusbar">
      <span>{count} nodes</span>
      <span className={errors ? "bad" : "good"} data-testid="validation-status">
        {r.validationMessage
          ? r.validationMessage
          : r.validating
            ? "checking…"
            : errors
              ? `${errors} error${errors > 1 ? "s" : ""}: see the marked nodes`
              : count
                ? "✓ shapes check out"
                : ""}
      </span>
      {unlocated.map((e) => (
        <span className="bad" key={e.message}>
          {e.message}
        </span>
      ))}
      {r.run && (
        <span data-testid="run-status">
          ran {r.run.run.backward ?? "forward only"} on {r.run.run.device} in{" "}
          {(r.run.timings.forward_ms + r.run.timings.backward_ms).toFixed(1)} ms
        </span>
      )}
      {r.runMessage && <span className="bad">{r.runMessage}</span>}
      {notice && visible && (
        <span className={`notice ${notice.kind}`} data-testid="notice">
          {notice.text}
        </span>
      )}
    </footer>
  );
}

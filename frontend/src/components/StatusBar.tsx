// The bottom bar: validation state, the last run, and the latest notice. Each line lasts as long as
// what it reports: validation's until the next, the run's until an edit or another run, a notice
// until the graph changes or six seconds pass.
import { useEffect, useState } from "react";
import { sameContent } from "../core/graph";
import { runFailureLine, unlocated, validationLine } from "../core/status";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import "./StatusBar.css";

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
  // A notice is about the graph as it was: an edit, an undo or another graph ends it.
  useEffect(
    () =>
      useGraph.subscribe((s, prev) => {
        if (s.graph !== prev.graph && !sameContent(s.graph, prev.graph)) setVisible(false);
      }),
    [],
  );
  const validation = validationLine({ ...r, nodes: count });
  const failure = runFailureLine(r);
  return (
    <footer className="statusbar" data-testid="statusbar">
      <span>{count} nodes</span>
      <span className={validation?.tone ?? ""} data-testid="validation-status">
        {validation?.text ?? ""}
      </span>
      {unlocated(r.validationErrors).map((e) => (
        <span className="bad" key={e.message}>
          {e.message}
        </span>
      ))}
      {r.run && (
        <span data-testid="run-status">
          ran {r.run.run.backward ?? "forward only"} on {r.run.run.device} in{" "}
          {(r.run.timings.forward_ms + r.run.timings.backward_ms).toFixed(1)} ms
          {!r.run.run.output && <span className="todo"> · choose a loss to see gradients</span>}
        </span>
      )}
      {failure && (
        <span className="bad" data-testid="run-failed">
          {failure}
        </span>
      )}
      {notice && visible && (
        <span className={`notice ${notice.kind}`} data-testid="notice">
          {notice.text}
        </span>
      )}
    </footer>
  );
}

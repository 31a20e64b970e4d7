// The canvas's colour scale: the one range every node's heatmap is drawn on (core/canvasScale.ts),
// and the switch to give each node its own range when one node's numbers dwarf the others'.
import { Panel } from "@xyflow/react";
import { canvasLimit } from "../core/canvasScale";
import { useDisplay } from "../store/displayStore";
import { useResults } from "../store/resultsStore";
import { useHidden } from "../store/revealStore";
import { ColorBar } from "./ColorBar";

export function CanvasLegend() {
  const hidden = useHidden();
  const limit = useResults((s) => canvasLimit(s.run?.nodes, s.mode, hidden));
  const mode = useResults((s) => s.mode);
  const any = useResults(
    (s) =>
      Boolean(s.run) && canvasLimit(s.run?.nodes, "value") + canvasLimit(s.run?.nodes, "grad", hidden) > 0,
  );
  const { scale, setScale } = useDisplay();
  if (!any) return null;
  const own = scale === "own";
  return (
    <Panel position="bottom-center" className="canvas-legend" data-testid="canvas-legend">
      <span className="legend-title">{mode === "grad" ? "Gradients" : "Values"}</span>
      {own ? (
        <span className="muted">each heatmap on its own range (±, under it)</span>
      ) : mode === "grad" && hidden && limit === 0 ? (
        <span className="muted" data-testid="legend-hidden">
          hidden until revealed: predict them first
        </span>
      ) : (
        <ColorBar limit={limit} />
      )}
      <button
        type="button"
        className="legend-switch"
        data-testid="scale-switch"
        title={
          own
            ? "Draw every heatmap on one range, so that colours compare across nodes"
            : "Give each heatmap its own range, to see the pattern of a node whose numbers are small"
        }
        onClick={() => setScale(own ? "shared" : "own")}
      >
        {own ? "One scale" : "Own scales"}
      </button>
    </Panel>
  );
}

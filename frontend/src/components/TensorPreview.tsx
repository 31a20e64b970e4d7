// The compact preview drawn inside a node: a small tensor's numbers as PyTorch prints them, a
// heatmap on the canvas's shared colour scale for a larger one, its statistics when no data came.
import { memo, useMemo } from "react";
import type { TensorPayload } from "../api/types";
import { canvasLimit, nodeNumbers, previewKind } from "../core/canvasScale";
import { absMax, decode, formatNumber, shapeText } from "../core/tensor";
import { useDisplay } from "../store/displayStore";
import { useField } from "../store/fieldStore";
import { useResults } from "../store/resultsStore";
import { useHidden } from "../store/revealStore";
import { Heatmap } from "./Heatmap";
import "./tensors.css";

function Numbers({ payload }: { payload: TensorPayload }) {
  const shown = nodeNumbers(payload);
  if (!shown) return null;
  const scalar = payload.shape.length === 0;
  return (
    <pre
      className={`preview-numbers${scalar ? " preview-scalar" : ""}${shown.wide ? " wide" : ""}`}
      data-testid="preview-numbers"
    >
      {shown.text}
    </pre>
  );
}

function MapPreview({ payload, nodeId }: { payload: TensorPayload; nodeId?: string }) {
  const tensor = useMemo(() => decode(payload), [payload]);
  // The receptive field of the element last clicked, when this node lies upstream of it. Shown on
  // values only: the gradient view's numbers are another tensor's.
  const overlay = useField((s) => (nodeId ? s.overlays[nodeId] : undefined));
  const valueShown = useResults((s) => s.mode === "value");
  const own = useDisplay((s) => s.scale === "own");
  const hidden = useHidden();
  const shared = useResults((s) => canvasLimit(s.run?.nodes, s.mode, hidden));
  const ownLimit = useMemo(() => (tensor ? absMax(tensor.data) : 0), [tensor]);
  if (!tensor) return null;
  const limit = own ? ownLimit : shared;
  return (
    <div className="preview-map">
      <Heatmap
        tensor={tensor}
        limit={limit}
        maxWidth={156}
        maxHeight={72}
        gap={1}
        overlay={valueShown ? overlay : undefined}
      />
      {overlay && valueShown && (
        <div className="preview-field" data-testid="preview-field">
          receptive field
        </div>
      )}
      {own && <div className="preview-range mono">±{formatNumber(limit)}</div>}
    </div>
  );
}

export const TensorPreview = memo(function TensorPreview({
  payload,
  nodeId,
}: {
  payload: TensorPayload;
  nodeId?: string;
}) {
  switch (previewKind(payload)) {
    case "numbers":
      return <Numbers payload={payload} />;
    case "heatmap":
      return <MapPreview payload={payload} nodeId={nodeId} />;
    default:
      return (
        <div className="preview-stats">
          {shapeText(payload.shape)} · mean {formatNumber(payload.stats.mean)} · ‖·‖{" "}
          {formatNumber(payload.stats.norm)}
        </div>
      );
  }
});

// The compact preview drawn inside a node: a number for a scalar, a heatmap otherwise.
import { memo, useMemo } from "react";
import type { TensorPayload } from "../api/types";
import { decode, formatNumber, shapeText } from "../core/tensor";
import { Heatmap } from "./Heatmap";

export const TensorPreview = memo(function TensorPreview({ payload }: { payload: TensorPayload }) {
  const tensor = useMemo(() => decode(payload), [payload]);
  if (payload.numel === 1 && tensor) {
    return <div className="preview-scalar">{formatNumber(tensor.data[0], 5)}</div>;
  }
  if (!tensor) {
    return (
      <div className="preview-stats">
        {shapeText(payload.shape)} · mean {formatNumber(payload.stats.mean)} · ‖·‖{" "}
        {formatNumber(payload.stats.norm)}
      </div>
    );
  }
  return (
    <div className="preview-map">
      <Heatmap tensor={tensor} maxWidth={156} maxHeight={72} gap={1} />
    </div>
  );
});

// The colour bar of a heatmap: -max .. 0 .. +max.
import { cssColor, diverging } from "../core/colormap";
import { formatNumber } from "../core/tensor";

export function ColorBar({ limit }: { limit: number }) {
  const stops = Array.from({ length: 11 }, (_, i) =>
    cssColor(diverging(-limit + (2 * limit * i) / 10, limit)),
  );
  return (
    <div className="colorbar">
      <div
        className="colorbar-strip"
        style={{ background: `linear-gradient(to right, ${stops.join(", ")})` }}
      />
      <div className="colorbar-ticks">
        <span>{formatNumber(-limit)}</span>
        <span>0</span>
        <span>{formatNumber(limit)}</span>
      </div>
    </div>
  );
}

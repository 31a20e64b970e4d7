// A tensor drawn on <canvas>: one map for vectors and matrices, a grid of maps for 3-D and 4-D tensors.
import { useEffect, useRef } from "react";
import { divergingInto } from "../core/colormap";
import { absMax, asMaps, type Tensor } from "../core/tensor";

interface Props {
  tensor: Tensor;
  /** The colour scale runs from -limit to +limit: the largest |value| when left out. A caller that
   * also needs it (for a colour bar) computes it once and passes it in. */
  limit?: number;
  /** Largest size in CSS pixels of the whole drawing. */
  maxWidth: number;
  maxHeight: number;
  gap?: number;
  onHover?: (flat: number | null) => void;
  /** A click on an element (its flat index): asks for its receptive field. */
  onPick?: (flat: number) => void;
  /** A receptive field over this tensor: 0 outside, 1 can influence, 2 gradient non-zero (core/field.ts). */
  overlay?: Uint8Array;
  /** The clicked element, when it is in this tensor. */
  marked?: number | null;
}

// The field's colours, strong enough for a projector: amber where an element can influence the
// clicked one whatever the data, green where its gradient is non-zero too; the rest is dimmed.
export const FIELD_COLOURS = {
  influence: [245, 180, 0],
  gradient: [0, 170, 90],
  marked: [200, 0, 200],
} as const;

function tint(px: Uint8ClampedArray, at: number, rgb: readonly number[], amount: number) {
  for (let i = 0; i < 3; i++) px[at + i] = px[at + i] * (1 - amount) + rgb[i] * amount;
}

function paintField(px: Uint8ClampedArray, at: number, kind: number) {
  if (kind === 2) tint(px, at, FIELD_COLOURS.gradient, 0.7);
  else if (kind === 1) tint(px, at, FIELD_COLOURS.influence, 0.7);
  else tint(px, at, [40, 40, 40], 0.45);
}

export function Heatmap({
  tensor,
  limit,
  maxWidth,
  maxHeight,
  gap = 2,
  onHover,
  onPick,
  overlay,
  marked,
}: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const m = asMaps(tensor.shape);
  const totalW = m.gridCols * m.w + (m.gridCols - 1) * gap;
  const totalH = m.gridRows * m.h + (m.gridRows - 1) * gap;
  const cell = Math.max(0.25, Math.min(maxWidth / totalW, maxHeight / totalH, 28));
  const width = Math.max(1, Math.round(totalW * cell));
  const height = Math.max(1, Math.round(totalH * cell));

  // One canvas pixel per element (gaps left transparent), scaled up by CSS with pixelated
  // rendering: filling ImageData is a few array writes per element, where a fillRect per
  // element with a CSS colour string cost tens of milliseconds on a 300-node graph.
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    canvas.width = totalW;
    canvas.height = totalH;
    const image = ctx.createImageData(totalW, totalH);
    const px = image.data;
    const scale = limit ?? absMax(tensor.data);
    const per = m.h * m.w;
    for (let k = 0; k < m.count; k++) {
      const gx = (k % m.gridCols) * (m.w + gap);
      const gy = Math.floor(k / m.gridCols) * (m.h + gap);
      for (let r = 0; r < m.h; r++) {
        const row = ((gy + r) * totalW + gx) * 4;
        const from = k * per + r * m.w;
        for (let c = 0; c < m.w; c++) {
          divergingInto(px, row + c * 4, tensor.data[from + c], scale);
          if (overlay) paintField(px, row + c * 4, overlay[from + c]);
          if (marked === from + c) tint(px, row + c * 4, FIELD_COLOURS.marked, 1);
        }
      }
    }
    ctx.putImageData(image, 0, 0);
  }, [tensor, limit, totalW, totalH, gap, m.gridCols, m.count, m.h, m.w, overlay, marked]);

  const cellAt = (ev: React.MouseEvent<HTMLCanvasElement>): number | null => {
    // The drawing as the screen has it, which a panel's scale (CSS zoom) or the canvas's zoom makes
    // larger or smaller than its CSS size: back to CSS px before finding the cell.
    const r = ev.currentTarget.getBoundingClientRect();
    const px = ((ev.clientX - r.left) * (r.width ? width / r.width : 1)) / cell;
    const py = ((ev.clientY - r.top) * (r.height ? height / r.height : 1)) / cell;
    const gc = Math.floor(px / (m.w + gap));
    const gr = Math.floor(py / (m.h + gap));
    const c = Math.floor(px - gc * (m.w + gap));
    const row = Math.floor(py - gr * (m.h + gap));
    const k = gr * m.gridCols + gc;
    // k >= m.count: an empty cell of a partly filled last row of the grid, with no data behind it.
    if (c >= m.w || row >= m.h || gc >= m.gridCols || gr >= m.gridRows || c < 0 || row < 0 || k >= m.count)
      return null;
    return k * m.h * m.w + row * m.w + c;
  };
  const hover = (ev: React.MouseEvent<HTMLCanvasElement>) => onHover?.(cellAt(ev));
  const pick = (ev: React.MouseEvent<HTMLCanvasElement>) => {
    const flat = onPick ? cellAt(ev) : null;
    if (flat !== null) onPick?.(flat);
  };

  return (
    <canvas
      ref={ref}
      className="heatmap"
      style={{ width, height, imageRendering: "pixelated", cursor: onPick ? "crosshair" : undefined }}
      onMouseMove={hover}
      onClick={pick}
      onMouseLeave={() => onHover?.(null)}
    />
  );
}

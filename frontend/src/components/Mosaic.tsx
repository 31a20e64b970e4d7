// The maps of a 3-D or 4-D tensor (a batch of images, a conv layer's channels), with a picker for
// the sample and the channel, laid out to the panel's width and paged when there are many.
import { useMemo, useState } from "react";
import { create } from "zustand";
import { clampPick, defaultPick, layout, PAGE, type Pick, tilesOf } from "../core/mosaic";
import type { Tensor } from "../core/tensor";
import { Heatmap } from "./Heatmap";

// The pick of each node, shared by its value's and its gradient's mosaics (the same maps of both),
// and kept while another node is inspected.
const usePicks = create<{ picks: Record<string, Pick> }>()(() => ({ picks: {} }));

/** What the first two dimensions of a 4-D tensor are: a batch's, or a conv weight's. */
export type Axes = "batch" | "weight";
const AXIS_NAMES: Record<Axes, [string, string]> = {
  batch: ["sample", "channel"], // [N, C, H, W]
  weight: ["out channel", "in channel"], // conv2d's weight [out, in, kh, kw]
};

interface Props {
  /** Whose pick this is: the node's id. */
  pickKey: string;
  axes: Axes;
  tensor: Tensor;
  limit: number;
  width: number;
  onHover: (flat: number | null) => void;
  onPick?: (flat: number) => void;
  overlay?: Uint8Array;
  marked?: number | null;
}

function IndexPicker(props: {
  label: string;
  size: number;
  value: number | null;
  testId: string;
  onChange: (v: number | null) => void;
}) {
  return (
    <label className="map-pick">
      {props.label}{" "}
      <select
        data-testid={props.testId}
        value={props.value === null ? "all" : String(props.value)}
        onChange={(e) => props.onChange(e.target.value === "all" ? null : Number(e.target.value))}
      >
        <option value="all">all {props.size}</option>
        {Array.from({ length: props.size }, (_, i) => String(i)).map((i) => (
          <option key={i} value={i}>
            {i}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Mosaic({ pickKey, axes, tensor, limit, width, onHover, onPick, overlay, marked }: Props) {
  const { shape } = tensor;
  const four = shape.length === 4;
  const stored = usePicks((s) => s.picks[pickKey]);
  // A new shape (the graph was edited and run again) keeps what still exists of the pick.
  const pick = useMemo(() => clampPick(stored ?? defaultPick(shape), shape), [stored, shape]);
  const [page, setPage] = useState(0);
  const tiles = useMemo(() => tilesOf(shape, pick), [shape, pick]);
  const [h, w] = shape.slice(-2);
  const fit = layout(tiles.length, h, w, width);
  const current = Math.min(page, fit.pages - 1);
  const shown = tiles.slice(current * PAGE, (current + 1) * PAGE);
  const choose = (p: Pick) => {
    usePicks.setState((s) => ({ picks: { ...s.picks, [pickKey]: p } }));
    setPage(0);
  };
  return (
    <div className="mosaic" data-testid="mosaic">
      <div className="map-picks">
        <IndexPicker
          label={four ? AXIS_NAMES[axes][0] : "index"}
          size={shape[0]}
          value={pick.first}
          testId="pick-sample"
          onChange={(first) => choose({ ...pick, first })}
        />
        {four && (
          <IndexPicker
            label={AXIS_NAMES[axes][1]}
            size={shape[1]}
            value={pick.second}
            testId="pick-channel"
            onChange={(second) => choose({ ...pick, second })}
          />
        )}
        <span className="mono muted map-slice" data-testid="map-slice">
          [{pick.first ?? ":"}
          {four ? `, ${pick.second ?? ":"}` : ""}, :, :]
        </span>
      </div>
      <div className="mosaic-tiles" style={{ gridTemplateColumns: `repeat(${fit.columns}, ${fit.tile}px)` }}>
        {shown.map((t) => (
          <figure key={t.offset} className="mosaic-tile" data-index={t.index.join(",")}>
            <Heatmap
              tensor={{ shape: [h, w], data: tensor.data.subarray(t.offset, t.offset + h * w) }}
              limit={limit}
              maxWidth={fit.tile}
              maxHeight={fit.tile}
              onHover={(flat) => onHover(flat === null ? null : t.offset + flat)}
              onPick={onPick && ((flat) => onPick(t.offset + flat))}
              overlay={overlay?.subarray(t.offset, t.offset + h * w)}
              marked={marked == null ? null : marked - t.offset}
            />
            {tiles.length > 1 && <figcaption className="mono">[{t.index.join(", ")}]</figcaption>}
          </figure>
        ))}
      </div>
      {fit.pages > 1 && (
        <div className="mosaic-pages">
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
            ‹ Previous
          </button>
          <span data-testid="mosaic-page">
            maps {current * PAGE + 1}–{Math.min(tiles.length, (current + 1) * PAGE)} of {tiles.length}
          </span>
          <button type="button" disabled={current === fit.pages - 1} onClick={() => setPage(current + 1)}>
            Next ›
          </button>
        </div>
      )}
    </div>
  );
}

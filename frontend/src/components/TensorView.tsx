// The whole of one tensor: heatmap with colour bar and hover, table, statistics, downloads.
import { useMemo, useState } from "react";
import type { TensorPayload } from "../api/types";
import { download } from "../core/download";
import { toNested, toNpy } from "../core/npy";
import { exactText } from "../core/numbers";
import { absMax, decode, formatNumber, hoverText, shapeText } from "../core/tensor";
import { ColorBar } from "./ColorBar";
import { Heatmap } from "./Heatmap";
import { TensorTable } from "./TensorTable";

interface Props {
  payload: TensorPayload;
  name: string;
  testId: string;
  onLoadFull?: () => void;
}

export function TensorView({ payload, name, testId, onLoadFull }: Props) {
  const tensor = useMemo(() => decode(payload), [payload]);
  const limit = useMemo(() => (tensor ? absMax(tensor.data) : 0), [tensor]);
  const [view, setView] = useState<"map" | "table">("map");
  const [hover, setHover] = useState<number | null>(null);
  const s = payload.stats;
  return (
    <div className="tensor-view" data-testid={testId}>
      <div className="tensor-head">
        <span className="mono">
          {shapeText(payload.shape)} {payload.dtype}
        </span>
        {tensor && tensor.data.length > 1 && (
          <div className="seg">
            <button type="button" className={view === "map" ? "on" : ""} onClick={() => setView("map")}>
              Heatmap
            </button>
            <button type="button" className={view === "table" ? "on" : ""} onClick={() => setView("table")}>
              Table
            </button>
          </div>
        )}
      </div>
      {!tensor ? (
        <div className="truncated">
          <p>{payload.note ?? "The data was left out for its size."}</p>
          {onLoadFull && (
            <button type="button" onClick={onLoadFull}>
              Load the whole tensor
            </button>
          )}
        </div>
      ) : tensor.data.length === 1 ? (
        <div className="big-scalar" data-testid={`${testId}-scalar`}>
          {exactText(tensor.data[0], tensor.dtype)}
        </div>
      ) : view === "map" ? (
        <>
          <Heatmap tensor={tensor} limit={limit} maxWidth={320} maxHeight={260} onHover={setHover} />
          <ColorBar limit={limit} />
          <div className="hover-readout mono">
            {hover === null
              ? "Hover the map for an element's index and value."
              : hoverText(hover, tensor.shape, tensor.data[hover])}
          </div>
        </>
      ) : (
        <TensorTable tensor={tensor} testId={`${testId}-table`} />
      )}
      <dl className="stats">
        <dt>min</dt>
        <dd>{formatNumber(s.min)}</dd>
        <dt>max</dt>
        <dd>{formatNumber(s.max)}</dd>
        <dt>mean</dt>
        <dd>{formatNumber(s.mean)}</dd>
        <dt>std</dt>
        <dd>{s.std === null ? "–" : formatNumber(s.std)}</dd>
        <dt>norm</dt>
        <dd data-testid={`${testId}-norm`}>{formatNumber(s.norm, 6)}</dd>
        {(s.nan > 0 || s.inf > 0) && (
          <>
            <dt>nan/inf</dt>
            <dd className="warn">
              {s.nan}/{s.inf}
            </dd>
          </>
        )}
      </dl>
      {tensor && (
        <div className="downloads">
          <button
            type="button"
            onClick={() => download(`${name}.npy`, toNpy(tensor), "application/octet-stream")}
          >
            Download .npy
          </button>
          <button
            type="button"
            onClick={() =>
              download(
                `${name}.json`,
                JSON.stringify({ shape: tensor.shape, data: toNested(tensor) }),
                "application/json",
              )
            }
          >
            Download JSON
          </button>
        </div>
      )}
    </div>
  );
}

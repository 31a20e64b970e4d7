// The whole of one tensor: its numbers as PyTorch prints them (small ones), a heatmap or a mosaic
// of maps with a sample and channel picker (3-D and 4-D), a table, statistics, downloads. A tensor
// that came without its data is fetched whole by itself (actions/wholeTensor.ts).
import { useMemo, useRef, useState } from "react";
import { retryWhole, useWholeTensor } from "../actions/wholeTensor";
import type { TensorPayload } from "../api/types";
import { MOST_PRINTED } from "../core/canvasScale";
import { download } from "../core/download";
import { unravel } from "../core/field";
import { hasMaps } from "../core/mosaic";
import { toNested, toNpy } from "../core/npy";
import { exactText } from "../core/numbers";
import { printTensor } from "../core/printTensor";
import { absMax, decode, formatNumber, hoverText, shapeText, type Tensor } from "../core/tensor";
import { useWidth } from "../hooks/useWidth";
import { useField } from "../store/fieldStore";
import { useResults } from "../store/resultsStore";
import { ColorBar } from "./ColorBar";
import { FieldLegend } from "./FieldLegend";
import { Heatmap } from "./Heatmap";
import { type Axes, Mosaic } from "./Mosaic";
import { TensorTable } from "./TensorTable";
import "./tensors.css";

interface Props {
  payload: TensorPayload;
  name: string;
  testId: string;
  /** The node whose tensor this is: its data is fetched when the run left it out. */
  nodeId?: string;
  /** A node's value: its elements can be clicked for their receptive field, which it shows. */
  field?: boolean;
}

type View = "numbers" | "map" | "table";

function Missing({ payload, nodeId }: { payload: TensorPayload; nodeId?: string }) {
  const whole = useWholeTensor(nodeId, payload);
  const run = useResults((s) => s.run?.run);
  if (whole?.state === "refused") {
    return (
      <div className="whole-status refused" data-testid="whole-status">
        <p>{whole.message}</p>
        {nodeId && run && (
          <button type="button" onClick={() => retryWhole(nodeId, run, payload.numel)}>
            Try again
          </button>
        )}
      </div>
    );
  }
  return (
    <p className="whole-status" data-testid="whole-status">
      {nodeId
        ? `Fetching all ${payload.numel.toLocaleString("en-US")} numbers of this tensor…`
        : `This tensor has ${payload.numel.toLocaleString("en-US")} numbers; its statistics are below.`}
    </p>
  );
}

function Drawing(props: { tensor: Tensor; limit: number; pickKey: string; axes: Axes; fieldOf?: string }) {
  const { tensor, limit, fieldOf } = props;
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box, 280);
  const [hover, setHover] = useState<number | null>(null);
  const overlay = useField((s) => (fieldOf ? s.overlays[fieldOf] : undefined));
  const clicked = useField((s) => (fieldOf && s.clicked?.node === fieldOf ? s.clicked.index : null));
  const marked = useMemo(() => (clicked ? ravel(clicked, tensor.shape) : null), [clicked, tensor.shape]);
  const onPick = fieldOf
    ? (flat: number) => void useField.getState().ask(fieldOf, unravel(flat, tensor.shape))
    : undefined;
  const field = { onPick, overlay, marked };
  return (
    <div ref={box} className="tensor-drawing">
      {fieldOf && <FieldLegend nodeId={fieldOf} />}
      {hasMaps(tensor.shape) ? (
        <Mosaic {...props} width={width} onHover={setHover} {...field} />
      ) : (
        <Heatmap
          tensor={tensor}
          limit={limit}
          maxWidth={width}
          maxHeight={260}
          onHover={setHover}
          {...field}
        />
      )}
      <ColorBar limit={limit} />
      <div className="hover-readout mono">
        {hover === null
          ? "Hover the map for an element's index and value."
          : hoverText(hover, tensor.shape, tensor.data[hover])}
      </div>
    </div>
  );
}

/** Row-major flat index of `index` in `shape`. */
function ravel(index: readonly number[], shape: readonly number[]): number {
  return index.reduce((flat, i, d) => flat * shape[d] + i, 0);
}

export function TensorView({ payload, name, testId, nodeId, field }: Props) {
  // A learnable leaf is a weight: its maps are [out channel, in channel], not [sample, channel].
  const learnable = useResults((s) =>
    Boolean(nodeId && s.metas[nodeId]?.is_leaf && s.metas[nodeId]?.requires_grad),
  );
  const tensor = useMemo(() => decode(payload), [payload]);
  const limit = useMemo(() => (tensor ? absMax(tensor.data) : 0), [tensor]);
  const small = payload.numel <= MOST_PRINTED;
  const [view, setView] = useState<View>(small ? "numbers" : "map");
  // A receptive field over this tensor shows on its elements: the printed numbers become the table.
  const fieldOf = field ? nodeId : undefined;
  const overlay = useField((st) => (fieldOf ? st.overlays[fieldOf] : undefined));
  const clicked = useField((st) => (fieldOf && st.clicked?.node === fieldOf ? st.clicked.index : null));
  const shown: View = view === "numbers" && (!small || overlay) ? (small ? "table" : "map") : view;
  const s = payload.stats;
  const choices: [View, string][] = [
    ...(small ? [["numbers", "Numbers"] as [View, string]] : []),
    ["map", "Heatmap"],
    ["table", "Table"],
  ];
  return (
    <div className="tensor-view" data-testid={testId}>
      <div className="tensor-head">
        <span className="mono">
          {shapeText(payload.shape)} {payload.dtype}
        </span>
        {tensor && tensor.data.length > 1 && (
          <div className="seg">
            {choices.map(([v, label]) => (
              <button key={v} type="button" className={shown === v ? "on" : ""} onClick={() => setView(v)}>
                {label}
              </button>
            ))}
          </div>
        )}
      </div>
      {!tensor ? (
        <Missing payload={payload} nodeId={nodeId} />
      ) : tensor.data.length === 1 ? (
        <div className="big-scalar" data-testid={`${testId}-scalar`}>
          {exactText(tensor.data[0], payload.dtype)}
        </div>
      ) : shown === "numbers" ? (
        <pre
          className="tensor-numbers"
          data-testid={`${testId}-numbers`}
          title={fieldOf ? "Table: click an element for its receptive field" : undefined}
        >
          {printTensor(tensor, payload.dtype, { linewidth: 40 })}
        </pre>
      ) : shown === "map" ? (
        <Drawing
          tensor={tensor}
          limit={limit}
          pickKey={nodeId ?? name}
          axes={learnable ? "weight" : "batch"}
          fieldOf={field ? nodeId : undefined}
        />
      ) : (
        <>
          {fieldOf && <FieldLegend nodeId={fieldOf} />}
          <TensorTable
            tensor={tensor}
            testId={`${testId}-table`}
            onPick={
              fieldOf
                ? (flat) => void useField.getState().ask(fieldOf, unravel(flat, tensor.shape))
                : undefined
            }
            overlay={overlay}
            marked={clicked ? ravel(clicked, tensor.shape) : null}
          />
        </>
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

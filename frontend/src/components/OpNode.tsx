// The one node component: ports, header and preview all drawn from the op's declaration in GET /api/ops.
import { Handle, type NodeProps, type NodeTypes, Position } from "@xyflow/react";
import { memo } from "react";
import { useShallow } from "zustand/react/shallow";
import { ownerColor } from "../core/backward";
import { nodeNumbers } from "../core/canvasScale";
import { gradLabel, sharedBadge, versionTitle } from "../core/explain";
import type { EditorNode } from "../core/graph";
import { inputHandles, OUTPUT_HANDLE } from "../core/ports";
import { errorSummary } from "../core/status";
import { shapeText } from "../core/tensor";
import { trackingOf } from "../core/tracking";
import { useGraph } from "../store/graphStore";
import { errorsOf, shownBackward, useResults } from "../store/resultsStore";
import { useGradHidden } from "../store/revealStore";
import { useSteps } from "../store/stepsStore";
import { CheckBadge } from "./CheckBadge";
import { GradcheckBadge } from "./GradcheckBadge";
import { RevealButton } from "./RevealButton";
import { TensorPreview } from "./TensorPreview";

function OpNodeView({ id, data, selected }: NodeProps<EditorNode>) {
  const op = useGraph((s) => s.ops[data.op]);
  const connected = useGraph(
    useShallow((s) => s.graph.edges.filter((e) => e.target === id).map((e) => e.targetHandle)),
  );
  const isLoss = useGraph((s) => s.graph.run.output === id);
  const meta = useResults((s) => s.metas[id]);
  const errors = useResults(useShallow((s) => errorsOf(s, id)));
  const result = useResults((s) => s.run?.nodes[id]);
  const mode = useResults((s) => s.mode);
  // The server's list, not a count of edges: a tensor needing no grad (the input x of the 4.1
  // DAG), or used once but for detach, has nothing to sum however many ops it feeds.
  const shared = useResults((s) => s.shared.find((n) => n.id === id));
  const ran = useResults((s) => s.run?.run);
  // With the backward graph shown: this node's colour there, and whether it is the one hovered.
  const owner = useResults((s) => {
    const shown = s.backward ? shownBackward(s) : null;
    return shown ? ownerColor(id, shown.order) : undefined;
  });
  const linked = useResults((s) => s.hovered === id && s.backward);
  const gradHidden = useGradHidden(id); // predict, then reveal
  const stepping = useSteps((s) => s.lit?.owner === id); // the backward stepper's step is this node's

  if (!op) {
    return (
      <div className="op-node has-error" data-testid={`node-${id}`}>
        <div className="op-head">
          <span className="op-id">{id}</span>
        </div>
        <div className="op-error">Unknown op “{data.op}”: the server does not offer it.</div>
      </div>
    );
  }

  const handles = inputHandles(op.ports, connected);
  const payload = result ? (mode === "grad" ? (gradHidden ? null : result.grad) : result.value) : null;
  const shape = result?.shape ?? meta?.shape;
  const portErrors = new Set(errors.map((e) => e.port).filter(Boolean));
  // A port left unconnected is normal while building: a quiet hint, not an alarm.
  const missing = errors.filter((e) => e.code === "missing_input");
  const located = errors.filter((e) => e.code !== "missing_input");
  const badge = shared && sharedBadge(shared);
  const wide = payload ? nodeNumbers(payload)?.wide : false; // a matrix's rows, each on a line

  return (
    <div
      className={`op-node cat-${op.category}${located.length ? " has-error" : ""}${missing.length ? " incomplete" : ""}${selected ? " selected" : ""}${owner ? " owned" : ""}${linked ? " linked" : ""}${stepping ? " stepping" : ""} track-${trackingOf(result ?? meta) ?? "unknown"}`}
      style={owner ? ({ "--owner": owner } as React.CSSProperties) : undefined}
      data-testid={`node-${id}`}
      data-wide={wide || undefined}
    >
      <div className="op-head">
        <span className="op-name">{op.name}</span>
        <span className="op-id" title={id}>
          {data.label || id}
        </span>
        {isLoss && <span className="badge loss">loss</span>}
        {badge && (
          <span className="badge shared" title={badge.title}>
            {badge.text}
          </span>
        )}
        <CheckBadge id={id} />
        <GradcheckBadge id={id} />
      </div>
      <div className="op-ports">
        {handles.map((h) => (
          <div key={h.id} className={`port-row${portErrors.has(h.port.name) ? " port-error" : ""}`}>
            <Handle
              type="target"
              position={Position.Left}
              id={h.id}
              className={h.port.optional ? "handle optional" : "handle"}
            />
            <span className="port-name" title={h.port.doc}>
              {h.index === null ? h.port.name : `${h.port.name}[${h.index}]`}
              {h.port.optional ? "?" : ""}
            </span>
          </div>
        ))}
      </div>
      <Handle type="source" position={Position.Right} id={OUTPUT_HANDLE} className="handle out" />
      <div className="op-shape" data-testid={`shape-${id}`}>
        {shape ? shapeText(shape) : op.source ? shapeText(data.attrs.shape as number[]) : "…"}
        {(result ?? meta)?.requires_grad && (
          <span
            className="rg"
            title={(result ?? meta)?.is_leaf ? "a leaf that requires grad" : "tracked by autograd"}
          >
            {(result ?? meta)?.is_leaf ? "leaf · grad" : (result?.grad_fn ?? "grad")}
          </span>
        )}
        {result && result.version > 0 && (
          <span className="version" data-testid={`version-${id}`} title={versionTitle(result.version)}>
            v{result.version}
          </span>
        )}
      </div>
      {payload && (
        <div
          className={`op-preview ${mode}`}
          data-testid={`preview-${id}`}
          title={mode === "grad" && ran ? gradLabel(id, ran) : undefined}
        >
          <TensorPreview payload={payload} nodeId={id} />
        </div>
      )}
      {result && mode === "grad" && !result.grad && <div className="op-nograd">no gradient</div>}
      {result?.grad && mode === "grad" && gradHidden && <RevealButton id={id} compact />}
      {missing.length > 0 && (
        <div className="op-missing" data-testid={`missing-${id}`}>
          connect {missing.map((e) => e.port).join(", ")}
        </div>
      )}
      {located.map((e) => (
        // The first sentence; the inspector has the whole message (what to change), and so the title.
        <div
          className="op-error"
          key={`${e.code}${e.port}${e.attribute}${e.message}`}
          data-testid={`error-${id}`}
          title={e.message}
        >
          {e.port ? <b>{e.port}: </b> : e.attribute ? <b>{e.attribute}: </b> : null}
          {errorSummary(e.message)}
        </div>
      ))}
    </div>
  );
}

export const OpNode = memo(OpNodeView);
export const nodeTypes = { op: OpNode } as unknown as NodeTypes;

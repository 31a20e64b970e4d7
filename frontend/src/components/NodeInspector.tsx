// The inspector of the selected node: its id, doc, attributes, role in the run, value and gradient.
import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { OpInfo, SharedNode, Use } from "../api/types";
import { accumulatedPasses, gradLabel, portName, sharedSentence, unsharedSentence } from "../core/explain";
import { consumers, type EditorNode } from "../core/graph";
import { shapeText } from "../core/tensor";
import { trackingOf, whyTracking } from "../core/tracking";
import { useGraph } from "../store/graphStore";
import { errorsOf, useResults } from "../store/resultsStore";
import { useGradHidden } from "../store/revealStore";
import { AttrForm } from "./AttrForm";
import { CheckToggles } from "./CheckToggles";
import { Contributions } from "./Contributions";
import { GradTimeline } from "./GradTimeline";
import { PerSamplePanel } from "./PerSamplePanel";
import { RevealButton } from "./RevealButton";
import { TensorView } from "./TensorView";

function IdField({ id }: { id: string }) {
  const [text, setText] = useState(id);
  const [error, setError] = useState<string | null>(null);
  const commit = () => {
    const e = useGraph.getState().rename(id, text.trim());
    setError(e);
    if (e) setText(id);
  };
  return (
    <div className="field">
      <label htmlFor="node-id">Name</label>
      <input
        id="node-id"
        data-testid="node-id"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === "Enter" && commit()}
      />
      {error && <div className="field-error">{error}</div>}
    </div>
  );
}

function UseList({ uses }: { uses: Use[] }) {
  return (
    <ul>
      {uses.map((u) => (
        <li key={`${u.consumer}.${u.port}`}>
          <button type="button" className="link" onClick={() => useGraph.getState().select(u.consumer)}>
            {u.consumer}
          </button>{" "}
          <span className="muted">port {u.port}</span>
        </li>
      ))}
    </ul>
  );
}

/** Where the node is used. Whether its gradient sums those uses is the server's word (`shared`),
 * not a count of edges: the input x of the 4.1 DAG feeds two ops but has no gradient. */
function Uses({ id, shared, requiresGrad }: { id: string; shared?: SharedNode; requiresGrad?: boolean }) {
  const edges = useGraph(useShallow((s) => consumers(s.graph, id)));
  const checked = useResults((s) => s.validationErrors.length === 0);
  if (shared) {
    return (
      <div className="uses" data-testid="shared-uses">
        <h4>Shared ×{shared.uses.length}</h4>
        <p className="doc">{sharedSentence(shared)}.</p>
        <UseList uses={shared.uses} />
      </div>
    );
  }
  if (edges.length < 2) return null;
  const uses = edges.map((e) => ({ consumer: e.target, port: portName(e.targetHandle) }));
  return (
    <div className="uses" data-testid="uses">
      <h4>Used {edges.length} times</h4>
      <p className="muted">{unsharedSentence(id, uses, requiresGrad, checked)}</p>
      <UseList uses={uses} />
    </div>
  );
}

export function NodeInspector({ node, op }: { node: EditorNode; op: OpInfo }) {
  const run = useGraph((s) => s.graph.run);
  const setRun = useGraph((s) => s.setRun);
  const meta = useResults((s) => s.metas[node.id]);
  // This node as PyTorch spells it, from its attributes (the server's line, renewed on each edit).
  const torchLine = useResults((s) => s.torch[node.id]);
  const errors = useResults(useShallow((s) => errorsOf(s, node.id)));
  const result = useResults((s) => s.run?.nodes[node.id]);
  const ran = useResults((s) => s.run?.run);
  const shared = useResults((s) => s.shared.find((n) => n.id === node.id));
  const gradHidden = useGradHidden(node.id); // predict, then reveal
  // A string: the inspector re-renders when the sentence changes, not on every edit of the graph
  // (an edit is validated again, which renews the metas this reads).
  const why = useResults((s) => {
    const g = useGraph.getState();
    return whyTracking(node.id, g.graph, s.metas, g.ops);
  });
  const serverAttrErrors = Object.fromEntries(
    errors.filter((e) => e.attribute).map((e) => [e.attribute as string, e.message]),
  );
  // An attribute's error is said under its field (AttrForm); the list has the others, whole.
  const fieldNames = Object.keys((op.attrs_schema.properties as object | undefined) ?? {});
  const listed = errors.filter((e) => !e.attribute || !fieldNames.includes(e.attribute));
  const isLoss = run.output === node.id;
  const wrtOn = run.wrt === null || run.wrt === undefined ? meta?.requires_grad : run.wrt.includes(node.id);
  const toggleWrt = (on: boolean) => {
    // Read at click time, rather than subscribing the inspector to every node.
    const { metas } = useResults.getState();
    const base =
      run.wrt ??
      useGraph
        .getState()
        .graph.nodes.filter((n) => metas[n.id]?.is_leaf && metas[n.id]?.requires_grad)
        .map((n) => n.id);
    setRun({ wrt: on ? [...new Set([...base, node.id])] : base.filter((w) => w !== node.id) });
  };

  return (
    <div className="inspector-body" data-testid="inspector">
      <div className={`insp-title cat-${op.category}`}>
        <span className="op-name">{op.name}</span>
        <span className="muted">{op.category}</span>
      </div>
      <IdField id={node.id} />
      <p className="doc">{op.doc.split("\n\n")[0]}</p>
      <code className="torch" data-testid="node-torch" title={`PyTorch: ${op.torch}`}>
        {torchLine ?? op.torch}
      </code>
      {listed.length > 0 && (
        <div className="insp-errors">
          {listed.map((e) => (
            <div key={`${e.code}${e.port}${e.message}`} className="op-error">
              {e.port && <b>port {e.port}: </b>}
              {e.attribute && <b>{e.attribute}: </b>}
              {e.message}
            </div>
          ))}
        </div>
      )}
      <div className="roles">
        <label>
          <input
            type="checkbox"
            data-testid="set-loss"
            checked={isLoss}
            onChange={(e) => setRun({ output: e.target.checked ? node.id : null })}
          />{" "}
          Differentiate this node (the loss)
        </label>
        {node.data.op !== "grad" && meta?.is_leaf && (
          <label>
            <input type="checkbox" checked={Boolean(wrtOn)} onChange={(e) => toggleWrt(e.target.checked)} />{" "}
            Compute its gradient (wrt)
          </label>
        )}
        <div className="muted">
          Shape {meta ? shapeText(meta.shape) : "?"} {meta?.dtype}{" "}
          {meta?.requires_grad ? "· requires grad" : ""}
          {result?.grad_fn ? ` · grad_fn ${result.grad_fn}` : ""}
        </div>
        {why && (
          <p className={`why-grad ${trackingOf(meta) ?? ""}`} data-testid="why-grad">
            {why}
          </p>
        )}
      </div>
      <Uses id={node.id} shared={shared} requiresGrad={meta?.requires_grad} />
      <h4>Attributes</h4>
      <AttrForm nodeId={node.id} op={op} attrs={node.data.attrs} serverErrors={serverAttrErrors} />
      {result && (
        <>
          <h4>Value</h4>
          <TensorView payload={result.value} name={node.id} testId="value-view" nodeId={node.id} field />
          <h4>
            Gradient{" "}
            {result.grad && ran && (
              <span className="muted" data-testid="grad-label">
                {gradLabel(node.id, ran)}
              </span>
            )}
          </h4>
          {result.grad && gradHidden ? (
            <RevealButton id={node.id} />
          ) : result.grad ? (
            <TensorView payload={result.grad} name={`${node.id}.grad`} testId="grad-view" nodeId={node.id} />
          ) : (
            <p className="muted">{result.grad_note ?? "No gradient for this node."}</p>
          )}
          {!gradHidden && result.grad_passes && <GradTimeline id={node.id} passes={result.grad_passes} />}
          {!gradHidden && result.contributions && (
            <Contributions
              id={node.id}
              contributions={result.contributions}
              passes={ran ? accumulatedPasses(ran) : 1}
            />
          )}
        </>
      )}
      {result && ran?.output && <PerSamplePanel id={node.id} />}
      <CheckToggles id={node.id} />
    </div>
  );
}

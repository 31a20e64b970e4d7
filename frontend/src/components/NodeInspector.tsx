// The inspector of the selected node: its id, doc, attributes, role in the run, value and gradient.
import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { loadFull } from "../actions/run";
import type { OpInfo } from "../api/types";
import { consumers, type EditorNode } from "../core/graph";
import { shapeText } from "../core/tensor";
import { useGraph } from "../store/graphStore";
import { errorsOf, useResults } from "../store/resultsStore";
import { AttrForm } from "./AttrForm";
import { Contributions } from "./Contributions";
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

export function NodeInspector({ node, op }: { node: EditorNode; op: OpInfo }) {
  const run = useGraph((s) => s.graph.run);
  const uses = useGraph(useShallow((s) => consumers(s.graph, node.id)));
  const setRun = useGraph((s) => s.setRun);
  const meta = useResults((s) => s.metas[node.id]);
  const errors = useResults(useShallow((s) => errorsOf(s, node.id)));
  const result = useResults((s) => s.run?.nodes[node.id]);
  const ranOutput = useResults((s) => s.run?.run.output);
  const serverAttrErrors = Object.fromEntries(
    errors.filter((e) => e.attribute).map((e) => [e.attribute as string, e.message]),
  );
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
      <code className="torch">{op.torch}</code>
      {errors.length > 0 && (
        <div className="insp-errors">
          {errors.map((e) => (
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
        </div>
      </div>
      {uses.length > 1 && (
        <div className="uses">
          <h4>Shared: used by {uses.length} ops</h4>
          <ul>
            {uses.map((e) => (
              <li key={e.id}>
                <button type="button" className="link" onClick={() => useGraph.getState().select(e.target)}>
                  {e.target}
                </button>{" "}
                <span className="muted">port {e.targetHandle}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <h4>Attributes</h4>
      <AttrForm nodeId={node.id} op={op} attrs={node.data.attrs} serverErrors={serverAttrErrors} />
      {result && (
        <>
          <h4>Value</h4>
          <TensorView
            payload={result.value}
            name={node.id}
            testId="value-view"
            onLoadFull={() => loadFull(node.id)}
          />
          <h4>
            Gradient{" "}
            {result.grad && (
              <span className="muted">
                d {ranOutput ?? "loss"} / d {node.id}
              </span>
            )}
          </h4>
          {result.grad ? (
            <TensorView
              payload={result.grad}
              name={`${node.id}.grad`}
              testId="grad-view"
              onLoadFull={() => loadFull(node.id)}
            />
          ) : (
            <p className="muted">{result.grad_note ?? "No gradient for this node."}</p>
          )}
          {result.contributions && <Contributions id={node.id} contributions={result.contributions} />}
        </>
      )}
    </div>
  );
}

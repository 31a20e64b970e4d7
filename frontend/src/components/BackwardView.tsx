// The backward graph beside the canvas: the autograd nodes the run built, as PyTorch holds them,
// each in the colour of the node whose op made it; hovering one lights up its maker on the
// canvas, and hovering a node on the canvas lights up what it made here.
import {
  Background,
  Controls,
  Handle,
  type NodeProps,
  type NodeTypes,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { memo, useEffect, useMemo } from "react";
import {
  AG_W,
  type AutogradNodeData,
  backwardFlow,
  backwardSummary,
  savedText,
  savedTitle,
} from "../core/backward";
import { shownBackward, useResults } from "../store/resultsStore";
import { useSteps } from "../store/stepsStore";
import { BackwardStepper } from "./BackwardStepper";

type AgNode = { id: string; type: "autograd"; position: { x: number; y: number }; data: AutogradNodeData };

function AutogradNodeView({ data }: NodeProps<AgNode>) {
  const { node, color, roots, errors } = data;
  const linked = useResults((s) => s.hovered !== null && s.hovered === node.node);
  // The backward stepper's step: this node, or one it sends a gradient to.
  const lit = useSteps((s) =>
    s.lit?.autograd === node.id ? " current" : s.lit?.targets.includes(node.id) ? " receives" : "",
  );
  return (
    <div
      className={`ag-node${linked ? " linked" : ""}${errors.length ? " has-error" : ""}${lit}`}
      style={{ "--owner": color } as React.CSSProperties}
      data-testid={`ag-${node.id}`}
      data-owner={node.node ?? ""}
    >
      <Handle type="target" position={Position.Top} className="ag-handle" isConnectable={false} />
      <div className="ag-name">{node.name}</div>
      <div className="ag-owner">
        {node.name === "AccumulateGrad" ? "into " : "by "}
        <b>{node.node ?? "?"}</b>
        {roots.length > 0 && (
          <span className="badge loss" title={`backward starts here, from ${roots.join(", ")}`}>
            start
          </span>
        )}
      </div>
      {node.saved.map((s) => (
        <div key={s.name} className={`ag-saved ${s.state}`} title={savedTitle(s)}>
          {savedText(s)}
        </div>
      ))}
      {errors.map((m) => (
        <div key={m} className="ag-error" data-testid={`ag-error-${node.id}`}>
          {m}
        </div>
      ))}
      <Handle type="source" position={Position.Bottom} className="ag-handle" isConnectable={false} />
    </div>
  );
}

const nodeTypes = { autograd: memo(AutogradNodeView) } as unknown as NodeTypes;

function BackwardFlow() {
  const run = useResults((s) => s.run);
  const failedBackward = useResults((s) => s.failedBackward);
  const runErrors = useResults((s) => s.runErrors);
  const shown = useMemo(() => shownBackward({ run, failedBackward }), [run, failedBackward]);
  const graph = shown?.graph ?? null;
  const flow = useMemo(
    () => (shown ? backwardFlow(shown.graph, shown.order, runErrors) : null),
    [shown, runErrors],
  );
  const rf = useReactFlow();
  useEffect(() => {
    if (flow) requestAnimationFrame(() => rf.fitView({ padding: 0.06, duration: 0, maxZoom: 1.4 }));
  }, [flow, rf]);
  const setHovered = useResults.getState().setHovered;
  // The stepper's step: brought to the middle of the view, at the zoom the student chose.
  const current = useSteps((s) => s.lit?.autograd ?? null);
  useEffect(() => {
    const n = current === null ? undefined : flow?.nodes.find((x) => x.data.node.id === current);
    if (n) rf.setCenter(n.position.x + AG_W / 2, n.position.y + 30, { zoom: rf.getZoom(), duration: 150 });
  }, [current, flow, rf]);

  const failed = runErrors.length > 0;
  let note: string | null = null;
  if (failed) note = "The run failed, so it built no graph to show: the marked nodes say why.";
  else if (!run) note = "Press Run: the backward graph the run builds appears here.";
  else if (!graph) note = "Run again to see the backward graph of this graph.";
  return (
    <div className="backward" data-testid="backward-view">
      <div className="backward-head" data-testid="backward-summary">
        <b>Backward graph</b>{" "}
        {failedBackward && (
          <span className="bad" data-testid="backward-failed">
            backward failed here: the red lines say why.{" "}
          </span>
        )}
        <span className="muted">{graph ? backwardSummary(graph) : note}</span>
      </div>
      {flow && (
        <ReactFlow
          nodes={flow.nodes}
          edges={flow.edges}
          nodeTypes={nodeTypes}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          onNodeMouseEnter={(_, n) => setHovered((n.data as AutogradNodeData).node.node ?? null)}
          onNodeMouseLeave={() => setHovered(null)}
          minZoom={0.1}
          maxZoom={2}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={20} size={1} />
          <Controls showInteractive={false} />
        </ReactFlow>
      )}
      {!failed && <BackwardStepper />}
    </div>
  );
}

/** Its own React Flow provider: the canvas's viewport and this one's are apart. */
export function BackwardView() {
  return (
    <ReactFlowProvider>
      <BackwardFlow />
    </ReactFlowProvider>
  );
}

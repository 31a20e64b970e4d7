// The canvas: React Flow draws the store's graph; every change goes back through the store.
import {
  Background,
  Controls,
  type IsValidConnection,
  MiniMap,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import { useCallback } from "react";
import { checkConnection } from "../core/connect";
import { MINIMAP } from "../core/minimap";
import { presenting } from "../core/prefs";
import { useFitOn, useMinimapFree, useScaleZoom, useZoomVariable } from "../hooks/useCanvasView";
import { useReadableFit } from "../hooks/useReadableFit";
import { useGraph } from "../store/graphStore";
import { useReadOnly } from "../store/readOnly";
import { useResults } from "../store/resultsStore";
import { useUi } from "../store/uiStore";
import { CanvasLegend } from "./CanvasLegend";
import { ExerciseNote } from "./ExerciseNote";
import { nodeTypes } from "./OpNode";
import { Regions } from "./Regions";
import { edgeTypes } from "./ShapeEdge";

export const DRAG_MIME = "application/x-dagrad-op";

const defaultEdgeOptions = { type: "shape" };

export function Canvas() {
  const nodes = useGraph((s) => s.graph.nodes);
  const edges = useGraph((s) => s.graph.edges);
  const loadCount = useGraph((s) => s.loadCount);
  const { onNodesChange, onEdgesChange, connect, checkpoint, addNode } = useGraph.getState();
  const flow = useReactFlow();

  const backward = useResults((s) => s.backward);
  // Following a room, or a share link before Make my copy: looked at, not edited.
  const readOnly = useReadOnly();
  const fit = useReadableFit();
  const present = useUi(presenting);
  const showMinimap = useMinimapFree();
  // A new graph, the canvas halved or whole again beside the backward graph, or the panels folded
  // for presenting or back again: fit it anew.
  useFitOn(`${loadCount} ${backward} ${present}`, fit);
  useScaleZoom();
  useZoomVariable();

  const isValidConnection: IsValidConnection = useCallback(
    (c) => checkConnection(useGraph.getState().graph, c).ok,
    [],
  );

  const onDrop = (ev: React.DragEvent) => {
    const op = ev.dataTransfer.getData(DRAG_MIME);
    if (!op) return;
    ev.preventDefault();
    const p = flow.screenToFlowPosition({ x: ev.clientX, y: ev.clientY });
    addNode(op, { x: p.x - 90, y: p.y - 30 });
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: the canvas is a drop target for palette items
    <div className="canvas" data-testid="canvas" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        defaultEdgeOptions={defaultEdgeOptions}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={(c) => connect(c)}
        onConnectEnd={(_, state) => {
          // Dropped on a handle that refused it: say why.
          if (state.toHandle && !state.isValid && state.fromHandle) {
            const c = {
              source: state.fromHandle.nodeId,
              target: state.toHandle.nodeId,
              targetHandle: state.toHandle.id,
            };
            const v = checkConnection(useGraph.getState().graph, c);
            if (!v.ok) useGraph.getState().notify("error", v.reason);
          }
        }}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        onNodeMouseEnter={(_, n) => useResults.getState().setHovered(n.id)}
        onNodeMouseLeave={() => useResults.getState().setHovered(null)}
        onNodeDragStart={() => checkpoint()}
        onSelectionDragStart={() => checkpoint()}
        deleteKeyCode={null}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        minZoom={0.1}
        maxZoom={2.5}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} size={1} />
        <Regions />
        {!backward && showMinimap && (
          <MiniMap
            pannable
            zoomable
            nodeStrokeWidth={3}
            style={{ width: MINIMAP.width, height: MINIMAP.height }}
          />
        )}
        <Controls onFitView={fit} />
        <CanvasLegend />
      </ReactFlow>
      <ExerciseNote />
      {nodes.length === 0 && (
        <div className="canvas-empty">
          <h2>Build a graph</h2>
          <p>
            Drag an op from the palette onto the canvas (or type its name in the search box and press Enter),
            then drag from a node's output dot on the right to another node's input on the left.
          </p>
          <p>Or open an example from the gallery.</p>
        </div>
      )}
    </div>
  );
}

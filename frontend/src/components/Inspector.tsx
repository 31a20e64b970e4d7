// The right-hand panel: the Train panel when it is open, else the selected node, or the run
// settings when none is selected.
import { selectedNode, useGraph } from "../store/graphStore";
import { useTrain } from "../store/trainStore";
import { NodeInspector } from "./NodeInspector";
import { RunSettings } from "./RunSettings";
import { TrainPanel } from "./TrainPanel";

export function Inspector() {
  const node = useGraph((s) => selectedNode(s.graph));
  const op = useGraph((s) => (node ? s.ops[node.data.op] : undefined));
  const training = useTrain((s) => s.open);
  return (
    <aside className="inspector" aria-label="Inspector">
      {training ? (
        <TrainPanel />
      ) : node && op ? (
        <NodeInspector key={node.id} node={node} op={op} />
      ) : (
        <RunSettings />
      )}
    </aside>
  );
}

// The right-hand panel: the selected node, or the run settings when none is selected.
import { selectedNode, useGraph } from "../store/graphStore";
import { NodeInspector } from "./NodeInspector";
import { RunSettings } from "./RunSettings";

export function Inspector() {
  const node = useGraph((s) => selectedNode(s.graph));
  const op = useGraph((s) => (node ? s.ops[node.data.op] : undefined));
  return (
    <aside className="inspector" aria-label="Inspector">
      {node && op ? <NodeInspector key={node.id} node={node} op={op} /> : <RunSettings />}
    </aside>
  );
}

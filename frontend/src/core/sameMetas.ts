// A new validation's node metadata, keeping the objects of the last one where nothing changed: each
// node and edge reads its own entry, and an entry that is the same object draws nothing again. The
// answer's JSON makes every entry a new object, which redrew every node of a 100-node graph on each
// edit (bench/validation_latency.py).
import type { NodeMeta } from "../api/types";

const equalMeta = (a: NodeMeta, b: NodeMeta) =>
  a.dtype === b.dtype &&
  a.requires_grad === b.requires_grad &&
  a.is_leaf === b.is_leaf &&
  a.shape.length === b.shape.length &&
  a.shape.every((d, i) => d === b.shape[i]);

export function keepUnchanged(
  previous: Record<string, NodeMeta>,
  next: Record<string, NodeMeta>,
): Record<string, NodeMeta> {
  const out: Record<string, NodeMeta> = {};
  let changed = Object.keys(previous).length !== Object.keys(next).length;
  for (const [id, meta] of Object.entries(next)) {
    const old = previous[id];
    if (old && equalMeta(old, meta)) out[id] = old;
    else {
      out[id] = meta;
      changed = true;
    }
  }
  return changed ? out : previous;
}

// How requires_grad flows, in the user's terms: each node is a leaf that requires grad, a tensor
// autograd tracks (made by an op, with a grad_fn), or one it does not track; and why. The rules
// are PyTorch's: a source requires grad when asked and floating point; an op's result does when
// one of its inputs does and the op is differentiable; detach cuts it; a grad node's result is
// tracked only with create_graph. React-free, so that each sentence is tested.
import type { NodeMeta, OpInfo } from "../api/types";
import { type EditorGraph, regionOf } from "./graph";

export type Tracking = "leaf" | "tracked" | "untracked";

type Meta = Pick<NodeMeta, "requires_grad" | "is_leaf" | "dtype">;

export function trackingOf(meta: Pick<Meta, "requires_grad" | "is_leaf"> | undefined): Tracking | null {
  if (!meta) return null;
  if (!meta.requires_grad) return "untracked";
  return meta.is_leaf ? "leaf" : "tracked";
}

const FLOATING = new Set(["float16", "bfloat16", "float32", "float64"]);

function list(ids: string[]): string {
  return ids.length <= 1 ? ids.join("") : `${ids.slice(0, -1).join(", ")} and ${ids[ids.length - 1]}`;
}

/** Why `id` requires grad or does not: a sentence for the inspector. */
export function whyTracking(
  id: string,
  graph: EditorGraph,
  metas: Record<string, Meta>,
  ops: Record<string, Pick<OpInfo, "source" | "differentiable">>,
): string | null {
  const node = graph.nodes.find((n) => n.id === id);
  const meta = metas[id];
  if (!node || !meta) return null;
  const op = ops[node.data.op];
  const name = node.data.op;
  if (!FLOATING.has(meta.dtype)) {
    return `${id} cannot require grad: ${meta.dtype} tensors cannot (only floating point ones can).`;
  }
  if (op?.source) {
    if (meta.requires_grad)
      return `${id} requires grad: it is a ${name} with requires_grad on, a leaf whose .grad backward fills.`;
    return `${id} does not require grad: requires_grad is off on this ${name} (turn it on to get a gradient).`;
  }
  const region = regionOf(graph, id);
  if (region && !op?.source) {
    return `${id} does not require grad: computed under no_grad (region ${region.label || region.id}), so autograd records nothing for it.`;
  }
  if (name === "detach")
    return `${id} does not require grad: cut by detach, so no gradient flows back through it.`;
  if (name === "grad") {
    return meta.requires_grad
      ? `${id} requires grad: create_graph recorded how this derivative was computed, so it can be differentiated again.`
      : `${id} does not require grad: a derivative is not tracked unless its grad node's create_graph is on.`;
  }
  if (op && !op.differentiable) return `${id} does not require grad: ${name} is not differentiable.`;
  const tracked = graph.edges
    .filter((e) => e.target === id && metas[e.source]?.requires_grad)
    .map((e) => e.source);
  const sources = [...new Set(tracked)];
  if (meta.requires_grad && sources.length) {
    const described = sources.map((s) => {
      const src = graph.nodes.find((n) => n.id === s);
      return src && ops[src.data.op]?.source ? `${s} (a ${src.data.op})` : s;
    });
    const does = sources.length === 1 ? "does" : "do";
    return `${id} requires grad because its input${sources.length === 1 ? "" : "s"} ${list(described)} ${does}: autograd records ${name} to differentiate it.`;
  }
  if (!meta.requires_grad) return `${id} does not require grad: none of its inputs requires grad.`;
  return `${id} requires grad.`;
}

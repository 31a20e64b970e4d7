// The edges' shape labels, placed all at once (core/edgeLabel.ts): each edge reports where its ends
// are as React Flow draws them, and reads back where its label goes. Reports made in one render are
// laid out once, after it (a microtask), not once each.
import { create } from "zustand";
import { type LabelAnchor, layoutLabels, type PlacedLabel } from "../core/edgeLabel";
import { boxOf } from "../core/placement";
import { useGraph } from "./graphStore";

interface LabelState {
  placed: Record<string, PlacedLabel>;
  /** The edge whose label shows whatever the crowd (the pointer is on it). */
  hovered: string | null;
  report(id: string, anchor: LabelAnchor | null): void;
  setHovered(id: string | null): void;
}

const anchors = new Map<string, LabelAnchor>();
let pending = false;

const same = (a: LabelAnchor | undefined, b: LabelAnchor) =>
  a !== undefined && a.sx === b.sx && a.sy === b.sy && a.tx === b.tx && a.ty === b.ty && a.text === b.text;

export const useLabels = create<LabelState>()((set) => {
  const layout = () => {
    pending = false;
    const nodes = useGraph.getState().graph.nodes.map(boxOf);
    const ordered = [...anchors.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    set({ placed: layoutLabels(ordered, nodes) });
  };
  return {
    placed: {},
    hovered: null,
    report: (id, anchor) => {
      if (anchor === null ? !anchors.delete(id) : same(anchors.get(id), anchor)) return;
      if (anchor) anchors.set(id, anchor);
      if (!pending) {
        pending = true;
        queueMicrotask(layout);
      }
    },
    setHovered: (hovered) => set({ hovered }),
  };
});

// Predict, then reveal: while `predict` is on, gradients are hidden on the canvas and in the
// inspector until the student reveals them, one node at a time or all at once. A document asks for
// it in meta.exercise.predict; loading a graph, or that flag changing, starts the mode afresh.
import { useMemo } from "react";
import { create } from "zustand";
import { predictOf } from "../core/exercise";
import { useGraph } from "./graphStore";

interface RevealState {
  predict: boolean;
  /** Every gradient shown, as "Reveal all" asks. */
  all: boolean;
  revealed: Record<string, true>;
  reveal(id: string): void;
  revealAll(): void;
  /** Hide every gradient again (to predict the next run's). */
  hideAll(): void;
}

export const useReveal = create<RevealState>()((set) => ({
  predict: false,
  all: false,
  revealed: {},
  reveal: (id) => set((s) => ({ revealed: { ...s.revealed, [id]: true } })),
  revealAll: () => set({ all: true }),
  hideAll: () => set({ all: false, revealed: {} }),
}));

/** True when node `id`'s gradient is to stay hidden. */
export const gradHidden = (s: Pick<RevealState, "predict" | "all" | "revealed">, id: string) =>
  s.predict && !s.all && !s.revealed[id];

export const useGradHidden = (id: string) => useReveal((s) => gradHidden(s, id));

/** Which gradients are hidden now, as a test of a node id (undefined outside predict mode): what
 * the canvas's shared colour scale leaves out. The same function until a reveal changes it. */
export function useHidden(): ((id: string) => boolean) | undefined {
  const hiding = useReveal((s) => s.predict && !s.all);
  const revealed = useReveal((s) => s.revealed);
  return useMemo(() => (hiding ? (id: string) => !revealed[id] : undefined), [hiding, revealed]);
}

// Another graph loaded (loadCount, with the graph itself: Auto-layout bumps loadCount alone, to
// fit the view), or the document's flag turned: the mode starts afresh.
useGraph.subscribe((s, prev) => {
  const on = predictOf(s.graph.meta);
  const loaded = s.loadCount !== prev.loadCount && s.graph !== prev.graph;
  if (loaded || on !== predictOf(prev.graph.meta)) {
    useReveal.setState({ predict: on, all: false, revealed: {} });
  }
});

// The receptive field of the element last clicked: asked of the server, shown on every upstream
// node's heatmap. An edit of the graph, or a new run, clears it (its masks are of that graph and data).
import { create } from "zustand";
import { ApiError, api } from "../api/client";
import type { ReceptiveFieldResponse, WindowInfo } from "../api/types";
import { type Overlay, overlayOf } from "../core/field";
import { sameContent, toDoc } from "../core/graph";
import { useGraph } from "./graphStore";
import { useResults } from "./resultsStore";

interface FieldState {
  /** The element asked about, while it is being computed and after. */
  clicked: { node: string; index: number[] } | null;
  field: ReceptiveFieldResponse | null;
  /** Each upstream node's overlay (0 outside, 1 can influence, 2 gradient non-zero), by node id. */
  overlays: Record<string, Overlay>;
  loading: boolean;
  message: string | null;
  /** Validation's window arithmetic of each conv and pool node, for its edges. */
  windows: Record<string, WindowInfo[]>;
  ask(node: string, index: number[]): Promise<void>;
  clear(): void;
  setWindows(windows: Record<string, WindowInfo[]>): void;
}

export const useField = create<FieldState>()((set, get) => ({
  clicked: null,
  field: null,
  overlays: {},
  loading: false,
  message: null,
  windows: {},
  async ask(node, index) {
    const clicked = { node, index };
    set({ clicked, loading: true, message: null });
    try {
      const field = await api.receptiveField(toDoc(useGraph.getState().graph), node, index);
      if (get().clicked !== clicked) return; // a newer click
      const overlays: Record<string, Overlay> = {};
      for (const f of field.fields) {
        const numel = f.shape.reduce((a, b) => a * b, 1);
        overlays[f.node] = overlayOf(f.structural, f.gradient, numel);
      }
      set({ field, overlays, loading: false });
    } catch (e) {
      if (get().clicked !== clicked) return;
      const text = e instanceof ApiError && e.errors.length ? e.errors[0].message : (e as Error).message;
      set({ field: null, overlays: {}, loading: false, message: text });
    }
  },
  clear() {
    set({ clicked: null, field: null, overlays: {}, loading: false, message: null });
  },
  setWindows(windows) {
    set({ windows });
  },
}));

const clearIfShown = () => {
  const s = useField.getState();
  if (s.clicked || s.message) s.clear();
};
useGraph.subscribe((s, prev) => {
  if (s.ops !== prev.ops || (s.graph !== prev.graph && !sameContent(s.graph, prev.graph))) clearIfShown();
});
// A new run (other data), or the run cleared; a whole tensor merged into the run (mergeNode) is
// the same run and keeps the field.
useResults.subscribe((s, prev) => {
  if ((s.running && !prev.running) || (!s.run && prev.run)) clearIfShown();
});

// How the canvas draws tensors: one colour scale for every heatmap, or each node its own.
import { create } from "zustand";

export type Scale = "shared" | "own";

interface DisplayState {
  scale: Scale;
  setScale(scale: Scale): void;
}

export const useDisplay = create<DisplayState>()((set) => ({
  scale: "shared",
  setScale: (scale) => set({ scale }),
}));

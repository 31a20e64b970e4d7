// The backward stepper's state: whether runs record their backward passes, which step is shown,
// and what that step lights up on both graphs (read by the canvas's nodes and the autograd nodes).
import { create } from "zustand";

export interface Lit {
  /** The autograd node of the current step (its id in the backward graph). */
  autograd: number;
  /** The node whose op made it, lit on the canvas. */
  owner: string | null;
  /** The autograd nodes it sends a gradient to. */
  targets: number[];
}

interface StepsState {
  /** Runs with the backward graph shown also record their steps (?backward_steps=true). */
  record: boolean;
  /** The step shown; null: the stepper is closed, nothing lit. */
  index: number | null;
  lit: Lit | null;
  setRecord(on: boolean): void;
  show(index: number | null, lit: Lit | null): void;
}

export const useSteps = create<StepsState>()((set) => ({
  record: true,
  index: null,
  lit: null,
  setRecord: (record) => set({ record }),
  show: (index, lit) => set({ index, lit }),
}));

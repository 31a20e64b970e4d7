// The gradient check's report and the per-sample gradients: their own slice, gone once the graph's
// content changes (they describe the graph they were asked for, as a run's results do).
import { create } from "zustand";
import type { PerSampleResponse } from "../api/types";
import type { CheckReport } from "../core/analysis";
import { sameContent } from "../core/graph";
import { useGraph } from "./graphStore";

export type PerSample = PerSampleResponse;

interface AnalysisState {
  checking: boolean;
  check: CheckReport | null;
  perSampleLoading: boolean;
  perSample: PerSample | null;
  perSampleError: string | null;
  setChecking(on: boolean): void;
  setCheck(report: CheckReport | null): void;
  setPerSampleLoading(on: boolean): void;
  setPerSample(result: PerSample | null, error?: string | null): void;
  clear(): void;
}

export const useAnalysis = create<AnalysisState>()((set) => ({
  checking: false,
  check: null,
  perSampleLoading: false,
  perSample: null,
  perSampleError: null,
  setChecking: (checking) => set({ checking }),
  setCheck: (check) => set({ check, checking: false }),
  setPerSampleLoading: (perSampleLoading) => set({ perSampleLoading }),
  setPerSample: (perSample, perSampleError = null) =>
    set({ perSample, perSampleError, perSampleLoading: false }),
  clear: () => set({ check: null, perSample: null, perSampleError: null }),
}));

// Moving or selecting nodes changes the graph but not its content: the reports stay for those.
useGraph.subscribe((s, prev) => {
  if (s.graph !== prev.graph && !sameContent(s.graph, prev.graph)) useAnalysis.getState().clear();
});

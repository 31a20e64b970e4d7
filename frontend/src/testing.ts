// A small handle for the end-to-end tests and the benchmark: the stores, read-only by convention.
import { toDoc } from "./core/graph";
import { useAnalysis } from "./store/analysisStore";
import { useGraph } from "./store/graphStore";
import { useResults } from "./store/resultsStore";
import { useTrain } from "./store/trainStore";

declare global {
  interface Window {
    __dagrad?: {
      graph: typeof useGraph;
      results: typeof useResults;
      analysis: typeof useAnalysis;
      train: typeof useTrain;
      toDoc: typeof toDoc;
    };
  }
}

export function exposeForTests(): void {
  window.__dagrad = { graph: useGraph, results: useResults, analysis: useAnalysis, train: useTrain, toDoc };
}

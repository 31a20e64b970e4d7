// A small handle for the end-to-end tests and the benchmark: the stores, read-only by convention.
import { toDoc } from "./core/graph";
import { useAnalysis } from "./store/analysisStore";
import { useGraph } from "./store/graphStore";
import { useResults } from "./store/resultsStore";

declare global {
  interface Window {
    __dagrad?: {
      graph: typeof useGraph;
      results: typeof useResults;
      analysis: typeof useAnalysis;
      toDoc: typeof toDoc;
    };
  }
}

export function exposeForTests(): void {
  window.__dagrad = { graph: useGraph, results: useResults, analysis: useAnalysis, toDoc };
}

// Live validation: 250 ms after the graph's content changes, POST /api/validate; stale results are dropped.
import { useEffect } from "react";
import { ApiError, api } from "../api/client";
import { type EditorGraph, toDoc } from "../core/graph";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";

/** What validation and runs depend on: everything but positions and selection. */
export function contentKey(graph: EditorGraph): string {
  const { layout: _layout, ...doc } = toDoc(graph);
  return JSON.stringify(doc);
}

export function useLiveValidation(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | null = null;
    let lastKey = "";
    const check = () => {
      const { graph } = useGraph.getState();
      const key = contentKey(graph);
      if (key === lastKey) return;
      const first = lastKey === "";
      lastKey = key;
      const results = useResults.getState();
      if (!first && results.run) results.clearRun();
      if (results.runErrors.length) useResults.setState({ runErrors: [], runMessage: null });
      clearTimeout(timer);
      controller?.abort();
      if (!graph.nodes.length) {
        results.setValidation({}, [], []);
        return;
      }
      results.setValidating(true);
      timer = setTimeout(async () => {
        controller = new AbortController();
        const mine = controller;
        try {
          const r = await api.validate(toDoc(graph), mine.signal);
          if (!mine.signal.aborted) useResults.getState().setValidation(r.nodes, r.shared, []);
        } catch (e) {
          if (mine.signal.aborted) return;
          if (e instanceof ApiError && e.errors.length) {
            useResults.getState().setValidation(e.nodes, [], e.errors);
          } else {
            useResults.getState().setValidationFailure((e as Error).message);
          }
        }
      }, 250);
    };
    check();
    const unsubscribe = useGraph.subscribe((s, prev) => {
      if (s.graph !== prev.graph || s.ops !== prev.ops) check();
    });
    return () => {
      clearTimeout(timer);
      controller?.abort();
      unsubscribe();
    };
  }, []);
}

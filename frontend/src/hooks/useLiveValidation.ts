// Live validation: shortly after the graph's content changes, POST /api/validate; stale results are dropped.
import { useEffect } from "react";
import { ApiError, api } from "../api/client";
import type { GraphDoc } from "../api/types";
import { sameContent, toDoc } from "../core/graph";
import { useField } from "../store/fieldStore";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { isFollowing } from "../store/roomStore";

/** What validation and runs depend on: everything but positions (and selection, which toDoc
 * drops), the title and description, meta (a tool's data) and the train section (a run does not
 * read it): editing an exercise's instructions, marking its checks or changing the learning
 * rate after a run leaves that run shown. */
export function contentKey(doc: GraphDoc): string {
  const { layout: _layout, meta: _meta, title: _title, description: _description, ...all } = doc;
  const { train: _train, ...rest } = all as typeof all & { train?: unknown };
  return JSON.stringify(rest);
}

/** How long an edit waits for the next before it is validated. Edits are whole (a value is committed
 * on Enter or blur, a drag changes no content), so this only gathers a burst (undo held down, a
 * paste); a request made stale by a newer edit is aborted. 250 ms made "checking…" linger: the
 * edit-to-painted budget is 300 ms for 100 nodes (bench/validation_latency.py). */
export const DEBOUNCE_MS = 60;

export function useLiveValidation(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | null = null;
    let lastKey = "";
    const check = () => {
      // Following a room, the presenter's validation comes with the graph (actions/room.ts).
      if (isFollowing()) return;
      const { graph } = useGraph.getState();
      const doc = toDoc(graph);
      const key = contentKey(doc);
      if (key === lastKey) return;
      const first = lastKey === "";
      lastKey = key;
      const results = useResults.getState();
      // A failed run's errors go on any change; a run's results go on a change after the first.
      if ((!first && results.run) || results.runErrors.length) results.clearRun();
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
          const r = await api.validate(doc, mine.signal);
          if (mine.signal.aborted) return;
          // A graph with errors is a validation that found them (200, valid false), not a failure.
          useField.getState().setWindows(r.valid ? (r.windows ?? {}) : {});
          if (r.valid) useResults.getState().setValidation(r.nodes, r.shared, [], r.torch);
          else useResults.getState().setValidation(r.nodes, [], r.errors, r.torch);
        } catch (e) {
          if (mine.signal.aborted) return;
          // A request refused as a whole (no graph document, too large, the server gone or busy).
          if (e instanceof ApiError && e.errors.length) {
            useResults.getState().setValidation(e.nodes, [], e.errors);
          } else {
            useResults.getState().setValidationFailure((e as Error).message);
          }
        }
      }, DEBOUNCE_MS);
    };
    check();
    const unsubscribe = useGraph.subscribe((s, prev) => {
      // Dragging or selecting changes the graph on every frame but not its content: skip those.
      if (s.ops !== prev.ops || (s.graph !== prev.graph && !sameContent(s.graph, prev.graph))) check();
    });
    return () => {
      clearTimeout(timer);
      controller?.abort();
      unsubscribe();
    };
  }, []);
}

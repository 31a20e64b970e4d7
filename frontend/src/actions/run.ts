// Running the graph: the loss defaults to the one scalar node nothing consumes.
import { api } from "../api/client";
import type { NodeMeta } from "../api/types";
import { type EditorGraph, toDoc } from "../core/graph";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useSteps } from "../store/stepsStore";

/** The node to differentiate when none is chosen: the last scalar node that feeds nothing and
 * requires grad (a derivative computed without create_graph has nothing to differentiate). */
export function guessLoss(graph: EditorGraph, metas: Record<string, NodeMeta>): string | null {
  const feeds = new Set(graph.edges.map((e) => e.source));
  const sinks = graph.nodes.filter(
    (n) => !feeds.has(n.id) && metas[n.id]?.shape.length === 0 && metas[n.id]?.requires_grad,
  );
  return sinks.length ? sinks[sinks.length - 1].id : null;
}

export async function runGraph(): Promise<void> {
  const { graph, notify } = useGraph.getState();
  const results = useResults.getState();
  if (!graph.nodes.length) {
    notify("info", "The canvas is empty: add some ops first.");
    return;
  }
  const doc = toDoc(graph);
  if (!graph.run.output) doc.run = { ...graph.run, output: guessLoss(graph, results.metas) };
  results.startRun();
  try {
    // The status bar says how it went, forward only included, until an edit or the next run.
    const response = await api.evaluate(doc, {
      backwardGraph: results.backward,
      backwardSteps: results.backward && useSteps.getState().record,
    });
    useResults.getState().finishRun(response);
    useSteps.getState().show(null, null); // a new run: its steps start closed
  } catch (e) {
    useResults.getState().failRun(e);
  }
}

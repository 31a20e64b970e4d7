// The gradient check and per-sample gradients, asked of the server for the graph as it stands.
import { ApiError, api } from "../api/client";
import type { GraphDoc } from "../api/types";
import { checkSummary } from "../core/analysis";
import { toDoc } from "../core/graph";
import { useAnalysis } from "../store/analysisStore";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { guessLoss } from "./run";

/** The document to check: the run's loss, or the one the page would guess for a run. */
function docToCheck(): GraphDoc {
  const { graph } = useGraph.getState();
  const doc = toDoc(graph);
  if (!graph.run.output) doc.run = { ...graph.run, output: guessLoss(graph, useResults.getState().metas) };
  return doc;
}

const failure = (e: unknown): string =>
  e instanceof ApiError && e.errors.length ? e.errors.map((x) => x.message).join(" ") : (e as Error).message;

export async function checkGradients(): Promise<void> {
  const { graph, notify } = useGraph.getState();
  if (!graph.nodes.length) {
    notify("info", "The canvas is empty: add some ops first.");
    return;
  }
  const analysis = useAnalysis.getState();
  analysis.setChecking(true);
  try {
    const report = await api.gradcheck(docToCheck());
    useAnalysis.getState().setCheck(report);
    notify(report.ok ? "info" : "error", checkSummary(report));
  } catch (e) {
    useAnalysis.getState().setCheck(null);
    notify("error", `Gradient check: ${failure(e)}`);
  }
}

export async function loadPerSample(sample: number): Promise<void> {
  const analysis = useAnalysis.getState();
  analysis.setPerSampleLoading(true);
  try {
    useAnalysis.getState().setPerSample(await api.perSample(docToCheck(), sample));
  } catch (e) {
    useAnalysis.getState().setPerSample(null, failure(e));
  }
}

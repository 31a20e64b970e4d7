// A node's whole tensors, fetched when the inspector shows them: a run sends the data of tensors
// up to a size (the server's default_payload_elements) and only the statistics of larger ones, so
// the page asks again for that one node's, by itself, and says in plain words when it cannot.
import { useEffect } from "react";
import { create } from "zustand";
import { ApiError, api } from "../api/client";
import type { RunInfo, TensorPayload } from "../api/types";
import { toDoc } from "../core/graph";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";

export type Whole = { state: "fetching" } | { state: "refused"; message: string };

interface WholeState {
  /** The run the statuses are about: a new run forgets them. */
  run: RunInfo | null;
  status: Record<string, Whole>;
}

const useWhole = create<WholeState>()(() => ({ run: null, status: {} }));

function setStatus(run: RunInfo, id: string, whole: Whole | null): void {
  useWhole.setState((s) => {
    const status = s.run === run ? { ...s.status } : {};
    if (whole) status[id] = whole;
    else delete status[id];
    return { run, status };
  });
}

const numbers = (n: number) => `${n.toLocaleString("en-US")} numbers`;

/** Why a tensor's data cannot be had, in words for a student (never the API's options). */
function refusal(e: unknown, numel: number): string {
  if (e instanceof ApiError && e.errors.some((x) => x.code === "limit"))
    return `This tensor's ${numbers(numel)} are more than the server sends in one answer; its statistics are below.`;
  return `The server could not send this tensor's numbers: ${(e as Error).message}`;
}

/** Run the graph again for the whole of one node's value and gradient, once per run. */
export async function fetchWhole(id: string, run: RunInfo, numel: number): Promise<void> {
  const known = useWhole.getState();
  if (known.run === run && known.status[id]) return; // asked already
  setStatus(run, id, { state: "fetching" });
  const { graph } = useGraph.getState();
  const doc = toDoc(graph);
  doc.run = { ...graph.run, output: run.output ?? null }; // the loss the run had, guessed or chosen
  try {
    const response = await api.evaluate(doc, { full: [id] });
    if (useResults.getState().run?.run !== run) return; // the graph changed or ran again meanwhile
    const result = response.nodes[id];
    if (result) useResults.getState().mergeNode(result);
    const still = result && [result.value, result.grad].some((p) => p?.truncated);
    setStatus(
      run,
      id,
      still
        ? {
            state: "refused",
            message: `This tensor has ${numbers(numel)}, more than this server sends for one tensor; its statistics are below.`,
          }
        : null,
    );
  } catch (e) {
    if (useResults.getState().run?.run === run)
      setStatus(run, id, { state: "refused", message: refusal(e, numel) });
  }
}

/** For a tensor shown without its data: fetch it, and say what is happening meanwhile. */
export function useWholeTensor(nodeId: string | undefined, payload: TensorPayload): Whole | null {
  const run = useResults((s) => s.run?.run);
  const status = useWhole((s) => (nodeId && s.run === run ? s.status[nodeId] : undefined));
  const wanted = Boolean(nodeId && run && payload.truncated);
  useEffect(() => {
    if (wanted && nodeId && run) fetchWhole(nodeId, run, payload.numel);
  }, [wanted, nodeId, run, payload.numel]);
  if (!payload.truncated) return null;
  return status ?? { state: "fetching" };
}

/** Ask again after a refusal (the server was busy, or down for a moment). */
export function retryWhole(id: string, run: RunInfo, numel: number): void {
  setStatus(run, id, null);
  fetchWhole(id, run, numel);
}

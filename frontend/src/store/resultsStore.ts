// Validation and run results: their own slice, apart from the graph.
import { create } from "zustand";
import { ApiError } from "../api/client";
import type { EvaluateResponse, GraphError, NodeMeta, NodeResult, SharedNode } from "../api/types";

export type Mode = "value" | "grad";

interface ResultsState {
  validating: boolean;
  metas: Record<string, NodeMeta>;
  /** The server's weight-sharing list: nodes whose gradient sums several uses. */
  shared: SharedNode[];
  validationErrors: GraphError[];
  /** A problem with the request itself (server down), shown in the status bar. */
  validationMessage: string | null;

  running: boolean;
  run: EvaluateResponse | null;
  runErrors: GraphError[];
  runMessage: string | null;
  mode: Mode;
  /** performance.now() when the last run's response arrived, for the benchmark. */
  responseAt: number;
  /** Runs ask for the autograd graph, shown beside the canvas. */
  backward: boolean;
  /** The node under the pointer, on the canvas or as the maker of an autograd node. */
  hovered: string | null;

  setValidation(metas: Record<string, NodeMeta>, shared: SharedNode[], errors: GraphError[]): void;
  setValidationFailure(message: string): void;
  setValidating(v: boolean): void;
  startRun(): void;
  finishRun(response: EvaluateResponse): void;
  failRun(error: unknown): void;
  mergeNode(result: NodeResult): void;
  clearRun(): void;
  setMode(mode: Mode): void;
  setBackward(on: boolean): void;
  setHovered(id: string | null): void;
}

export const useResults = create<ResultsState>()((set) => ({
  validating: false,
  metas: {},
  shared: [],
  validationErrors: [],
  validationMessage: null,
  running: false,
  run: null,
  runErrors: [],
  runMessage: null,
  mode: "value",
  responseAt: 0,
  backward: false,
  hovered: null,

  setValidation: (metas, shared, errors) =>
    set({ metas, shared, validationErrors: errors, validationMessage: null, validating: false }),
  setValidationFailure: (message) => set({ validationMessage: message, validating: false }),
  setValidating: (validating) => set({ validating }),
  startRun: () => set({ running: true, runMessage: null }),
  finishRun: (run) =>
    set({ run, running: false, runErrors: [], runMessage: null, responseAt: performance.now() }),
  failRun: (error) =>
    set({
      running: false,
      run: null,
      runErrors: error instanceof ApiError ? error.errors : [],
      runMessage: error instanceof Error ? error.message : String(error),
    }),
  mergeNode: (result) =>
    set((s) => (s.run ? { run: { ...s.run, nodes: { ...s.run.nodes, [result.id]: result } } } : {})),
  clearRun: () => set({ run: null, runErrors: [], runMessage: null }),
  setMode: (mode) => set({ mode }),
  setBackward: (backward) => set({ backward }),
  setHovered: (hovered) => set({ hovered }),
}));

/** Every error on a node, from validation and from the last run; once each (a run refused by
 * the compile says what validation said). */
export function errorsOf(
  state: Pick<ResultsState, "validationErrors" | "runErrors">,
  id: string,
): GraphError[] {
  const seen = new Set<string>();
  return [...state.validationErrors, ...state.runErrors].filter((e) => {
    const key = JSON.stringify([e.code, e.port, e.attribute, e.message]);
    if (e.node !== id || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// Validation and run results: their own slice, apart from the graph.
import { create } from "zustand";
import { ApiError } from "../api/client";
import type {
  BackwardGraph,
  EvaluateResponse,
  GraphError,
  NodeMeta,
  NodeResult,
  SharedNode,
} from "../api/types";
import { keepUnchanged } from "../core/sameMetas";

export type Mode = "value" | "grad";

export interface ShownBackward {
  graph: BackwardGraph;
  /** The node order ownerColor follows, alike on both graphs. */
  order: string[];
}

interface ResultsState {
  validating: boolean;
  metas: Record<string, NodeMeta>;
  /** The server's weight-sharing list: nodes whose gradient sums several uses. */
  shared: SharedNode[];
  validationErrors: GraphError[];
  /** Each node as a line of PyTorch, spelled by the server from its attributes (validate's `torch`). */
  torch: Record<string, string>;
  /** A problem with the request itself (server down), shown in the status bar. */
  validationMessage: string | null;

  running: boolean;
  run: EvaluateResponse | null;
  runErrors: GraphError[];
  runMessage: string | null;
  /** A run that failed in backward: the autograd graph as the failing pass found it, and the node
   * order its colours follow (the last validation's). */
  failedBackward: ShownBackward | null;
  mode: Mode;
  /** performance.now() when the last run's response arrived, for the benchmark. */
  responseAt: number;
  /** Runs ask for the autograd graph, shown beside the canvas. */
  backward: boolean;
  /** The node under the pointer, on the canvas or as the maker of an autograd node. */
  hovered: string | null;

  setValidation(
    metas: Record<string, NodeMeta>,
    shared: SharedNode[],
    errors: GraphError[],
    torch?: Record<string, string>,
  ): void;
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
  torch: {},
  validationMessage: null,
  running: false,
  run: null,
  runErrors: [],
  runMessage: null,
  failedBackward: null,
  mode: "value",
  responseAt: 0,
  backward: false,
  hovered: null,

  setValidation: (metas, shared, errors, torch = {}) =>
    set((s) => ({
      metas: keepUnchanged(s.metas, metas), // nodes that did not change are not drawn again
      shared,
      validationErrors: errors,
      torch,
      validationMessage: null,
      validating: false,
    })),
  setValidationFailure: (message) => set({ validationMessage: message, validating: false }),
  setValidating: (validating) => set({ validating }),
  startRun: () => set({ running: true, runMessage: null }),
  finishRun: (run) =>
    set({
      run,
      running: false,
      runErrors: [],
      runMessage: null,
      failedBackward: null,
      responseAt: performance.now(),
    }),
  failRun: (error) =>
    set((s) => ({
      running: false,
      run: null,
      runErrors: error instanceof ApiError ? error.errors : [],
      runMessage: error instanceof Error ? error.message : String(error),
      failedBackward:
        error instanceof ApiError && error.backwardGraph
          ? { graph: error.backwardGraph, order: Object.keys(s.metas) }
          : null,
    })),
  mergeNode: (result) =>
    set((s) => (s.run ? { run: { ...s.run, nodes: { ...s.run.nodes, [result.id]: result } } } : {})),
  clearRun: () => set({ run: null, runErrors: [], runMessage: null, failedBackward: null }),
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

/** The backward graph to show: the last run's, or the one a run that failed in backward found. */
export function shownBackward(s: Pick<ResultsState, "run" | "failedBackward">): ShownBackward | null {
  if (s.run?.backward_graph) return { graph: s.run.backward_graph, order: s.run.order };
  return s.failedBackward;
}

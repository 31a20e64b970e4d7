// Training in the page: the Train panel's form, the live session (core/training.ts's TrainClient
// over the WebSocket /api/train/ws) and the graph as it was before training, for Reset.
// Snapshots go into the results slice, so every node preview and heatmap shows their step; the
// trained graph goes into the graph store, so Run, the explorer views and a saved file show it.
import { create } from "zustand";
import { guessLoss, runGraph } from "../actions/run";
import type { GraphDoc } from "../api/types";
import { type EditorGraph, toDoc } from "../core/graph";
import {
  defaultTrain,
  fromForm,
  idleView,
  type SocketLike,
  TrainClient,
  type TrainForm,
  type TrainSection,
  type TrainView,
  toForm,
  trainSocketUrl,
} from "../core/training";
import { useGraph } from "./graphStore";
import { useResults } from "./resultsStore";

interface TrainState {
  /** The Train panel is shown in place of the inspector. */
  open: boolean;
  view: TrainView;
  form: TrainForm;
  formErrors: Record<string, string>;
  /** The graph before the first training since the last reset: what Reset brings back. */
  original: EditorGraph | null;

  setOpen(open: boolean): void;
  /** The form from the graph's train section (or the defaults), e.g. when a graph is loaded. */
  loadForm(): void;
  setField(name: string, value: string | boolean): void;
  /** A graph was loaded or laid out: a different graph (other node ids) ends the session and
   * forgets the graph Reset would bring back; the form takes the new graph's train section. */
  graphLoaded(): void;
  /** Start a run, or resume a paused one. */
  play(): void;
  pause(): void;
  /** One step: of the paused run, or of a new run that then waits paused. */
  step(): void;
  stop(): void;
  /** Back to the graph before training, its results cleared. */
  reset(): void;
  /** End the session (the panel closed, the page going): the server stops the training. */
  disconnect(): void;
}

/** How the page opens the socket; the vitest store tests replace it. */
export const socketFactory: { open: () => SocketLike } = {
  open: () => new WebSocket(trainSocketUrl(window.location)) as unknown as SocketLike,
};

export const useTrain = create<TrainState>()((set, get) => {
  const client = new TrainClient(() => socketFactory.open(), {
    onView: (view) => set({ view }),
    onResult: (result) => useResults.getState().finishRun(result),
    onTrained: (doc: GraphDoc) => {
      useGraph.getState().takeTrained(doc);
      // The trained graph is new content (live validation drops the last snapshot): run it, so
      // the values, gradients and backward graph are this step's.
      void runGraph();
    },
  });

  /** The section the form says, written into the graph; null (and the fields marked) if refused. */
  const commitForm = (): TrainSection | null => {
    const { graph, setTrain } = useGraph.getState();
    const r = fromForm(get().form, graph.train ?? defaultTrain());
    if (r.errors) {
      set({ formErrors: r.errors });
      return null;
    }
    set({ formErrors: {} });
    if (JSON.stringify(r.section) !== JSON.stringify(graph.train ?? null)) setTrain(r.section);
    return r.section;
  };

  const begin = (paused: boolean) => {
    if (!commitForm()) return;
    const { graph, notify } = useGraph.getState();
    if (!graph.nodes.length) {
      notify("info", "The canvas is empty: load an example (Examples) or build a graph to train.");
      return;
    }
    const doc = toDoc(graph);
    if (!graph.run.output) doc.run = { ...graph.run, output: guessLoss(graph, useResults.getState().metas) };
    if (!get().original) set({ original: graph });
    client.start(doc, paused);
  };

  return {
    open: false,
    view: idleView(),
    form: toForm(defaultTrain()),
    formErrors: {},
    original: null,

    setOpen: (open) => {
      if (open && !get().open) get().loadForm();
      if (!open) client.close();
      set({ open });
    },
    loadForm: () => set({ form: toForm(useGraph.getState().graph.train ?? defaultTrain()), formErrors: {} }),
    graphLoaded: () => {
      const { graph } = useGraph.getState();
      const ids = (g: EditorGraph) => g.nodes.map((n) => n.id).join("\n");
      const { original } = get();
      if (original && ids(original) === ids(graph)) return; // the same graph, laid out again
      client.reset();
      set({ original: null });
      get().loadForm();
    },
    setField: (name, value) => set((s) => ({ form: { ...s.form, [name]: value } })),

    play: () => {
      if (client.view.phase === "paused") client.resume();
      else if (!client.active) begin(false);
    },
    pause: () => client.pause(),
    step: () => {
      if (client.active) client.step();
      else begin(true);
    },
    stop: () => client.stop(),
    reset: () => {
      client.reset();
      const { original } = get();
      if (original) {
        // The initial values back, the settings as they are now (a new lr is kept for the next run).
        const { graph, checkpoint } = useGraph.getState();
        checkpoint();
        useGraph.setState({ graph: { ...original, train: graph.train } });
      }
      useResults.getState().clearRun();
      set({ original: null, formErrors: {} }); // the form stays as typed
    },
    disconnect: () => client.close(),
  };
});

// The graph being edited, its undo history and every editing action. React Flow only draws this.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { create } from "zustand";
import type { GraphDoc, OpInfo, RunConfig } from "../api/types";
import { type Clip, copySelection, paste } from "../core/clipboard";
import { type Connection, checkConnection } from "../core/connect";
import {
  addRegion,
  type EditorEdge,
  type EditorGraph,
  type EditorNode,
  emptyGraph,
  freshId,
  fromDoc,
  hasLayout,
  makeEdge,
  removeNodes,
  removeRegion,
  renameNode,
  setRegionNodes,
} from "../core/graph";
import { emptyHistory, type History, record, redo, undo } from "../core/history";
import { autoLayout, overlapping } from "../core/layout";
import { initialAttrs } from "../core/schema";
import type { TrainSection } from "../core/training";
import { readOnlyReason } from "./readOnly";

export interface Notice {
  kind: "info" | "error";
  text: string;
  at: number;
}

interface GraphState {
  graph: EditorGraph;
  history: History<EditorGraph>;
  ops: Record<string, OpInfo>;
  categories: string[];
  clip: Clip | null;
  notice: Notice | null;
  /** Bumped when a whole graph is loaded, so the canvas fits it to view. */
  loadCount: number;
  /** The nodes stand where Auto-layout put them, none placed by hand (a graph loaded without
   * positions, or Auto-layout pressed): when they grow (a run's previews) so that one covers
   * another, they are laid out again, with the sizes drawn. Dragging a node, adding or pasting
   * one ends it. */
  tidy: boolean;

  setOps(categories: string[], ops: OpInfo[]): void;
  notify(kind: Notice["kind"], text: string): void;
  checkpoint(): void;
  loadDoc(doc: GraphDoc): void;
  clear(): void;
  onNodesChange(changes: NodeChange<EditorNode>[]): void;
  onEdgesChange(changes: EdgeChange<EditorEdge>[]): void;
  connect(c: Connection): boolean;
  addNode(op: string, position: { x: number; y: number }): string | null;
  setAttr(id: string, name: string, value: unknown): void;
  rename(id: string, to: string): string | null;
  setRun(patch: Partial<RunConfig>): void;
  /** The graph's title and description (an exercise's instructions), as the document keeps them (undoable). */
  setInfo(patch: { title?: string | null; description?: string | null }): void;
  /** The document's meta (an exercise's settings and checks: core/exercise.ts), undoable. */
  setMeta(meta: Record<string, unknown>): void;
  /** The train section (the Train panel's settings), undoable. */
  setTrain(train: TrainSection | null): void;
  /** The graph a training gave back (its parameters' init now their trained values): an undo
   * step, the positions and the selection kept, the view not refitted. */
  takeTrained(doc: GraphDoc): void;
  /** The presenter's graph, as a follower of a room shows it: not an edit of this page's own
   * (no undo step), `selected` selected, fitted to the view when `fit`. */
  followDoc(doc: GraphDoc, selected: string[], fit: boolean): void;
  /** A no_grad region of the selected nodes (undoable). */
  regionFromSelection(): void;
  /** Region `id` now holds `ids`, the nodes its frame was resized over (undoable). */
  resizeRegion(id: string, ids: string[]): void;
  removeRegion(id: string): void;
  deleteSelected(): void;
  selectAll(): void;
  select(id: string | null): void;
  copy(): void;
  paste(): void;
  layout(): void;
  undo(): void;
  redo(): void;
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/;

export const useGraph = create<GraphState>()((set, get) => {
  /** Apply an edit that can be undone; none while the graph is not this page's (store/readOnly.ts). */
  const edit = (next: EditorGraph) => {
    const refused = readOnlyReason();
    if (refused) get().notify("info", refused);
    else set((s) => ({ graph: next, history: record(s.history, s.graph) }));
  };

  return {
    graph: emptyGraph(),
    history: emptyHistory(),
    ops: {},
    categories: [],
    clip: null,
    notice: null,
    loadCount: 0,
    tidy: false,

    setOps: (categories, ops) => set({ categories, ops: Object.fromEntries(ops.map((o) => [o.name, o])) }),
    notify: (kind, text) => set({ notice: { kind, text, at: Date.now() } }),
    checkpoint: () => set((s) => ({ history: record(s.history, s.graph) })),

    loadDoc: (doc) => {
      let graph = fromDoc(doc);
      const tidy = !hasLayout(doc);
      if (tidy) graph = autoLayout(graph);
      set((s) => ({ graph, history: record(s.history, s.graph), loadCount: s.loadCount + 1, tidy }));
    },
    clear: () => edit(emptyGraph()),
    followDoc: (doc, selected, fit) => {
      const chosen = new Set(selected);
      const graph = fromDoc(doc);
      graph.nodes = graph.nodes.map((n) => (chosen.has(n.id) ? { ...n, selected: true } : n));
      set((s) => ({ graph, loadCount: fit ? s.loadCount + 1 : s.loadCount, tidy: false }));
    },

    regionFromSelection: () => {
      const { graph } = get();
      const ids = graph.nodes.filter((n) => n.selected).map((n) => n.id);
      if (!ids.length) {
        get().notify(
          "info",
          "Select the nodes to run under no_grad first (Shift+click or Shift+drag a box).",
        );
        return;
      }
      edit(addRegion(graph, ids));
    },
    removeRegion: (id) => edit(removeRegion(get().graph, id)),
    resizeRegion: (id, ids) => edit(setRegionNodes(get().graph, id, ids)),

    onNodesChange: (changes) => {
      const { graph } = get();
      let next = { ...graph, nodes: applyNodeChanges(changes, graph.nodes) as EditorNode[] };
      const dragged = changes.some((c) => c.type === "position" && c.dragging);
      const tidy = get().tidy && !dragged;
      // Not an edit of the user's (no undo step): the automatic layout, kept so as sizes change.
      if (tidy && changes.some((c) => c.type === "dimensions") && overlapping(next)) next = autoLayout(next);
      set({ graph: next, tidy });
    },
    onEdgesChange: (changes) => {
      const { graph } = get();
      const removes = changes.some((c) => c.type === "remove");
      const next = { ...graph, edges: applyEdgeChanges(changes, graph.edges) as EditorEdge[] };
      if (removes) edit(next);
      else set({ graph: next });
    },

    connect: (c) => {
      const { graph } = get();
      const verdict = checkConnection(graph, c);
      if (!verdict.ok) {
        get().notify("error", verdict.reason);
        return false;
      }
      edit({
        ...graph,
        edges: [...graph.edges, makeEdge(c.source as string, c.target as string, c.targetHandle as string)],
      });
      return true;
    },

    addNode: (op, position) => {
      const info = get().ops[op];
      if (!info) return null;
      const { graph } = get();
      const id = freshId(graph, op);
      const node: EditorNode = {
        id,
        type: "op",
        position,
        selected: true,
        data: { op, attrs: initialAttrs(info.attrs_schema, info.source) },
      };
      edit({ ...graph, nodes: [...graph.nodes.map((n) => ({ ...n, selected: false })), node] });
      set({ tidy: false });
      return id;
    },

    setAttr: (id, name, value) => {
      const { graph } = get();
      edit({
        ...graph,
        nodes: graph.nodes.map((n) => {
          if (n.id !== id) return n;
          const attrs = { ...n.data.attrs };
          if (value === undefined) delete attrs[name];
          else attrs[name] = value;
          return { ...n, data: { ...n.data, attrs } };
        }),
      });
    },
    rename: (id, to) => {
      const { graph } = get();
      if (to === id) return null;
      const refused = readOnlyReason(); // said under the field, which shows the id again
      if (refused) return refused;
      if (!ID_RE.test(to)) return "An id starts with a letter and holds letters, digits, _ . or -.";
      if (graph.nodes.some((n) => n.id === to)) return `There is already a node called ${to}.`;
      edit(renameNode(graph, id, to));
      return null;
    },
    setRun: (patch) => {
      const { graph } = get();
      edit({ ...graph, run: { ...graph.run, ...patch } });
    },
    setInfo: (patch) => {
      const { graph } = get();
      const next = { ...graph, ...patch };
      if (next.title !== graph.title || next.description !== graph.description) edit(next);
    },

    setMeta: (meta) => edit({ ...get().graph, meta }),
    setTrain: (train) => edit({ ...get().graph, train }),
    takeTrained: (doc) => {
      const { graph } = get();
      const before = new Map(graph.nodes.map((n) => [n.id, n]));
      const trained = fromDoc(doc);
      trained.train = trained.train ?? graph.train; // the settings it was trained with stay
      trained.nodes = trained.nodes.map((n) => {
        const was = before.get(n.id);
        return was ? { ...n, position: was.position, selected: was.selected } : n;
      });
      edit(trained);
    },

    deleteSelected: () => {
      const { graph } = get();
      const ids = new Set(graph.nodes.filter((n) => n.selected).map((n) => n.id));
      const edges = graph.edges.filter((e) => !e.selected);
      if (!ids.size && edges.length === graph.edges.length) return;
      edit(removeNodes({ ...graph, edges }, ids));
    },
    selectAll: () => {
      const { graph } = get();
      set({ graph: { ...graph, nodes: graph.nodes.map((n) => ({ ...n, selected: true })) } });
    },
    select: (id) => {
      const { graph } = get();
      set({
        graph: {
          ...graph,
          nodes: graph.nodes.map((n) => ({ ...n, selected: n.id === id })),
          edges: graph.edges.map((e) => ({ ...e, selected: false })),
        },
      });
    },
    copy: () => {
      const clip = copySelection(get().graph);
      if (clip) set({ clip });
    },
    paste: () => {
      const { clip, graph } = get();
      if (clip) {
        edit(paste(graph, clip));
        set({ tidy: false });
      }
    },
    layout: () => {
      edit(autoLayout(get().graph));
      set((s) => ({ loadCount: s.loadCount + 1, tidy: true }));
    },
    undo: () => {
      const r = undo(get().history, get().graph);
      if (r) set({ graph: r.state, history: r.history });
    },
    redo: () => {
      const r = redo(get().history, get().graph);
      if (r) set({ graph: r.state, history: r.history });
    },
  };
});

/** The node selected alone, for the inspector. */
export const selectedNode = (g: EditorGraph): EditorNode | null => {
  const sel = g.nodes.filter((n) => n.selected);
  return sel.length === 1 ? sel[0] : null;
};

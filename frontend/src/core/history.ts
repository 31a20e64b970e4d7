// Undo history: snapshots of the graph, a bounded past and a future cleared by any new edit.
export interface History<T> {
  past: T[];
  future: T[];
}

export const LIMIT = 200;

export const emptyHistory = <T>(): History<T> => ({ past: [], future: [] });

/** Record `before` as the state to return to, before an edit. */
export function record<T>(h: History<T>, before: T): History<T> {
  return { past: [...h.past, before].slice(-LIMIT), future: [] };
}

export function undo<T>(h: History<T>, present: T): { history: History<T>; state: T } | null {
  if (!h.past.length) return null;
  const state = h.past[h.past.length - 1];
  return { history: { past: h.past.slice(0, -1), future: [present, ...h.future] }, state };
}

export function redo<T>(h: History<T>, present: T): { history: History<T>; state: T } | null {
  if (!h.future.length) return null;
  const [state, ...future] = h.future;
  return { history: { past: [...h.past, present], future }, state };
}

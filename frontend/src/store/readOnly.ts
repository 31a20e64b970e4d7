// Whether the graph on the page is not this page's to edit: a followed room's (the presenter's)
// or a share link's before "make my copy". One predicate for every guard: the canvas, the
// keyboard, autosave and the graph store's edits ask it, so both modes refuse edits alike.

import { isFollowing, useRoom } from "./roomStore";
import { useShare } from "./shareStore";

/** Why an edit is refused now, in the page's words; null when editing is allowed. */
export function readOnlyReason(): string | null {
  if (isFollowing()) return "This is the presenter's graph: Make my copy to edit it.";
  if (useShare.getState().viewing) return "This shared graph is read-only: Make my copy to edit it.";
  return null;
}

export const isReadOnly = () => readOnlyReason() !== null;

/** The same, for a component to re-render on. */
export function useReadOnly(): boolean {
  const following = useRoom((s) => s.role === "following");
  const viewing = useShare((s) => s.viewing);
  return following || viewing;
}

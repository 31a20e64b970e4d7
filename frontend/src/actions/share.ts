// Share links as a student meets them: the link opens read-only; "make my copy" makes it the
// student's own graph (autosaved like any), "reset to the original" puts the link's graph back.
// The page remembers which link its copy came from (by shareKey), so opening the link again, or
// reloading, finds the copy rather than the original.
import type { GraphDoc } from "../api/types";
import { toDoc } from "../core/graph";
import { emptyHistory } from "../core/history";
import { encodeFragment, shareKey } from "../core/share";
import { readAutosave, writeAutosave } from "../hooks/useAutosave";
import { useGraph } from "../store/graphStore";
import { useShare } from "../store/shareStore";

const COPY_OF = "dagrad.copy-of.v1";

function copyOf(): string | null {
  try {
    return localStorage.getItem(COPY_OF);
  } catch {
    return null;
  }
}

function markCopy(key: string | null): void {
  try {
    if (key) localStorage.setItem(COPY_OF, key);
    else localStorage.removeItem(COPY_OF);
  } catch {
    // storage disabled: the copy lasts as long as the page
  }
}

/** At start-up, the graph of the link in `hash`: this browser's copy of it when it made one,
 * else the link's own, read-only. */
export function openShared(doc: GraphDoc, hash: string): void {
  const key = shareKey(hash);
  const copy = key !== null && copyOf() === key ? readAutosave() : null;
  useGraph.getState().loadDoc(copy ?? doc);
  useGraph.setState({ history: emptyHistory() });
  useShare.setState({ original: doc, key, viewing: copy === null });
}

export function makeMyCopy(): void {
  const { key } = useShare.getState();
  useShare.setState({ viewing: false });
  writeAutosave(useGraph.getState().graph);
  markCopy(key);
  useGraph
    .getState()
    .notify(
      "info",
      "This is your copy now: edit it as you like. Reset to the original brings the link's graph back.",
    );
}

export function resetToOriginal(): void {
  const { original } = useShare.getState();
  if (!original) return;
  useGraph.getState().loadDoc(original);
  useGraph
    .getState()
    .notify("info", "Back to the shared graph as the link holds it. Ctrl+Z brings your version back.");
}

/** Another graph replaces the shared one (New, Open, an example): the page is on its own again,
 * and the address no longer holds the link. */
export function leaveShare(): void {
  if (!useShare.getState().original) return;
  useShare.setState({ original: null, key: null, viewing: false });
  markCopy(null);
  history.replaceState(null, "", `${location.pathname}${location.search}`);
}

/** The address of the page's graph as a link. The page that shares it keeps editing its own
 * graph, now counted as its copy of the link, so that reloading it finds the work and not the link. */
export function shareLink(): string {
  const { graph } = useGraph.getState();
  const doc = toDoc(graph);
  const fragment = encodeFragment(doc);
  const url = `${location.origin}${location.pathname}#${fragment}`;
  const share = useShare.getState();
  if (!share.viewing) {
    writeAutosave(graph);
    markCopy(shareKey(fragment));
    // A copy of another link shared anew: "reset" now goes back to what this link holds.
    if (share.original) useShare.setState({ original: doc, key: shareKey(fragment) });
  }
  return url;
}

// Save and open graph files (the API's format, layout included) and share a graph by URL.

import type { GraphDoc } from "../api/types";
import { download } from "../core/download";
import { parseGraphDoc, toDoc } from "../core/graph";
import { useGraph } from "../store/graphStore";
import { leaveShare, shareLink } from "./share";

const slug = (s: string | null | undefined) => (s || "graph").replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 60);

export function saveFile(): void {
  const { graph } = useGraph.getState();
  download(`${slug(graph.title)}.json`, `${JSON.stringify(toDoc(graph), null, 2)}\n`, "application/json");
}

/** Replace the graph with `doc` (null: an empty one), saying so, and how to get the old one
 * back when there was one: New and an example load replace the student's work. */
export function replaceGraph(doc: GraphDoc | null, what: string): void {
  leaveShare();
  const { graph, loadDoc, clear, notify } = useGraph.getState();
  const had = graph.nodes.length;
  if (doc) loadDoc(doc);
  else clear();
  notify("info", had ? `${what} Ctrl+Z brings back the graph you had.` : what);
}

export async function openFile(file: File): Promise<void> {
  const { notify } = useGraph.getState();
  try {
    replaceGraph(parseGraphDoc(await file.text()), `Opened ${file.name}.`);
  } catch (e) {
    notify("error", `${file.name} is not a dagrad graph file (${(e as Error).message}).`);
  }
}

export async function shareUrl(): Promise<string> {
  const { notify } = useGraph.getState();
  const url = shareLink();
  history.replaceState(null, "", url);
  try {
    await navigator.clipboard.writeText(url);
    notify("info", "Link copied: it holds the whole graph.");
  } catch {
    notify("info", "The address bar now holds the link to this graph.");
  }
  return url;
}

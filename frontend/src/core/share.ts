// Graphs in the URL fragment (#g=...), compressed with lz-string.
import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from "lz-string";
import type { GraphDoc } from "../api/types";

export const encodeFragment = (doc: GraphDoc) => `g=${compressToEncodedURIComponent(JSON.stringify(doc))}`;

export function decodeFragment(hash: string): GraphDoc | null {
  const m = /(?:^#?|&)g=([^&]+)/.exec(hash);
  if (!m) return null;
  try {
    const text = decompressFromEncodedURIComponent(m[1]);
    const doc = text ? (JSON.parse(text) as GraphDoc) : null;
    return doc && Array.isArray(doc.nodes) ? doc : null;
  } catch {
    return null;
  }
}

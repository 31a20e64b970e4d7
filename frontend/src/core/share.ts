// Graphs in the URL fragment (#g=...), compressed with lz-string.
import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from "lz-string";
import type { GraphDoc } from "../api/types";
import { parseGraphDoc } from "./graph";

const FRAGMENT = /(?:^#?|&)g=([^&]+)/;

export const encodeFragment = (doc: GraphDoc) => `g=${compressToEncodedURIComponent(JSON.stringify(doc))}`;

export function decodeFragment(hash: string): GraphDoc | null {
  const m = FRAGMENT.exec(hash);
  if (!m) return null;
  try {
    const text = decompressFromEncodedURIComponent(m[1]);
    return text ? parseGraphDoc(text) : null;
  } catch {
    return null;
  }
}

/** A short name for the graph a link holds (FNV-1a of its fragment, and its length): the page
 * remembers which link its own copy was made from without keeping the link itself. */
export function shareKey(hash: string): string | null {
  const m = FRAGMENT.exec(hash);
  if (!m) return null;
  let h = 0x811c9dc5;
  for (let i = 0; i < m[1].length; i++) {
    h ^= m[1].charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${m[1].length.toString(36)}-${h.toString(36)}`;
}

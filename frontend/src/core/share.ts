// Graphs in the URL fragment (#g=...), compressed with lz-string.
import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from "lz-string";
import type { GraphDoc } from "../api/types";
import { parseGraphDoc } from "./graph";

export const encodeFragment = (doc: GraphDoc) => `g=${compressToEncodedURIComponent(JSON.stringify(doc))}`;

export function decodeFragment(hash: string): GraphDoc | null {
  const m = /(?:^#?|&)g=([^&]+)/.exec(hash);
  if (!m) return null;
  try {
    const text = decompressFromEncodedURIComponent(m[1]);
    return text ? parseGraphDoc(text) : null;
  } catch {
    return null;
  }
}

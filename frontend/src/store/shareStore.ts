// A graph opened from a share link (#g=...): looked at read-only until "make my copy", after
// which the page edits a copy of it and can go back to the original (actions/share.ts).
import { create } from "zustand";
import type { GraphDoc } from "../api/types";

interface ShareState {
  /** The document the link holds; null when the page's graph came from no link. */
  original: GraphDoc | null;
  /** Which link it is (core/share.shareKey). */
  key: string | null;
  /** True while the page shows the shared graph read-only; false once it is the student's copy. */
  viewing: boolean;
}

export const useShare = create<ShareState>()(() => ({ original: null, key: null, viewing: false }));

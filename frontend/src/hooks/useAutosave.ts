// Autosave: the graph goes to localStorage half a second after each change.
import { useEffect } from "react";
import type { GraphDoc } from "../api/types";
import { parseGraphDoc, toDoc } from "../core/graph";
import { useGraph } from "../store/graphStore";
import { isFollowing } from "../store/roomStore";

const KEY = "dagrad.autosave.v1";

export function readAutosave(): GraphDoc | null {
  try {
    const text = localStorage.getItem(KEY);
    const doc = text ? parseGraphDoc(text) : null;
    return doc?.nodes.length ? doc : null;
  } catch {
    return null;
  }
}

export function useAutosave(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = useGraph.subscribe((s, prev) => {
      // A followed room's graph is the presenter's, not this browser's work: not saved over it.
      if (s.graph === prev.graph || isFollowing()) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          localStorage.setItem(KEY, JSON.stringify(toDoc(useGraph.getState().graph)));
        } catch {
          // storage full or disabled: autosave is a convenience only
        }
      }, 500);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, []);
}

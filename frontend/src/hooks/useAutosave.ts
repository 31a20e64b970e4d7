// Autosave: the graph goes to localStorage half a second after each change.
import { useEffect } from "react";
import type { GraphDoc } from "../api/types";
import { type EditorGraph, parseGraphDoc, toDoc } from "../core/graph";
import { useGraph } from "../store/graphStore";
import { isReadOnly } from "../store/readOnly";

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

/** Save `graph` now, as autosave would (a copy just made from a share link is the student's work). */
export function writeAutosave(graph: EditorGraph): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(toDoc(graph)));
  } catch {
    // storage full or disabled: autosave is a convenience only
  }
}

export function useAutosave(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const save = () => {
      timer = undefined;
      writeAutosave(useGraph.getState().graph);
    };
    const unsubscribe = useGraph.subscribe((s, prev) => {
      // A followed room's graph, or a share link's before "make my copy", is not this browser's
      // work: not saved over it.
      if (s.graph === prev.graph || isReadOnly()) return;
      clearTimeout(timer);
      timer = setTimeout(save, 500);
    });
    // Leaving the page (closed, reloaded, another address) within the half second saves at once.
    const flush = () => {
      if (timer === undefined) return;
      clearTimeout(timer);
      save();
    };
    window.addEventListener("pagehide", flush);
    return () => {
      clearTimeout(timer);
      window.removeEventListener("pagehide", flush);
      unsubscribe();
    };
  }, []);
}

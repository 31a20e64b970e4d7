// Keyboard shortcuts for the canvas (ignored while typing in a field).
import { useEffect } from "react";
import { runGraph } from "../actions/run";
import { useGraph } from "../store/graphStore";
import { isReadOnly } from "../store/readOnly";
import { useResults } from "../store/resultsStore";
import { useUi } from "../store/uiStore";

const focusSearch = () => document.querySelector<HTMLInputElement>("[data-testid=palette-search]")?.focus();

const typing = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

export function useKeyboard(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const g = useGraph.getState();
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "enter") {
        runGraph();
      } else if (typing(e.target)) {
        return;
      } else if (isReadOnly() && (key === "delete" || key === "backspace" || (mod && "zyv".includes(key)))) {
        return; // the presenter's or a share link's graph: edits wait for Make my copy
      } else if (key === "delete" || key === "backspace") {
        g.deleteSelected();
      } else if (mod && key === "z" && !e.shiftKey) {
        g.undo();
      } else if (mod && (key === "y" || (key === "z" && e.shiftKey))) {
        g.redo();
      } else if (mod && key === "c") {
        g.copy();
      } else if (mod && key === "v") {
        g.paste();
      } else if (mod && key === "a") {
        g.selectAll();
      } else if (key === "/" && !mod) {
        // A folded palette opens first, to be searched once it is drawn.
        if (!useUi.getState().palette) {
          useUi.getState().togglePalette();
          requestAnimationFrame(focusSearch);
        } else focusSearch();
      } else if (key === "[" && !mod) {
        useUi.getState().togglePalette();
      } else if (key === "]" && !mod) {
        useUi.getState().toggleInspector();
      } else if (key === "p" && !mod) {
        useUi.getState().togglePresenting();
      } else if (key === "g" && !mod) {
        const r = useResults.getState();
        r.setMode(r.mode === "value" ? "grad" : "value");
      } else {
        return;
      }
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}

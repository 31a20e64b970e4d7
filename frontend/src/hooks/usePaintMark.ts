// For the benchmark: when a run's results have been painted, record the time on window.
import { useEffect } from "react";
import { useResults } from "../store/resultsStore";

declare global {
  interface Window {
    __dagradPaint?: { responseAt: number; paintedAt: number };
  }
}

export function usePaintMark(): void {
  // A store subscription, not a hook selector: a finished run must not re-render the whole editor.
  useEffect(() => {
    const mark = ({ run, responseAt }: { run: unknown; responseAt: number }) => {
      if (!run) return;
      // React renders the store change before the next frame; mark when that frame starts.
      requestAnimationFrame(() => {
        window.__dagradPaint = { responseAt, paintedAt: performance.now() };
      });
    };
    mark(useResults.getState());
    return useResults.subscribe((s, prev) => {
      if (s.run !== prev.run || s.responseAt !== prev.responseAt) mark(s);
    });
  }, []);
}

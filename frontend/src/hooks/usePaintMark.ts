// For the benchmark: when a run's results have been painted, record the time on window.
import { useEffect } from "react";
import { useResults } from "../store/resultsStore";

declare global {
  interface Window {
    __dagradPaint?: { responseAt: number; paintedAt: number };
  }
}

export function usePaintMark(): void {
  const run = useResults((s) => s.run);
  const responseAt = useResults((s) => s.responseAt);
  useEffect(() => {
    if (!run) return;
    requestAnimationFrame(() => {
      window.__dagradPaint = { responseAt, paintedAt: performance.now() };
    });
  }, [run, responseAt]);
}

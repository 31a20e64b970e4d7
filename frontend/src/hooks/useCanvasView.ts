// How the main canvas's view follows the page: fits on a load or a fold, the scale's zoom, the zoom
// as a CSS variable, and whether the minimap may show.
import { type ReactFlowState, useNodesInitialized, useReactFlow, useStore, useStoreApi } from "@xyflow/react";
import { useEffect, useRef, useState } from "react";
import { zoomAbout } from "../core/fit";
import { minimapCovers } from "../core/minimap";
import { useGraph } from "../store/graphStore";
import { useUi } from "../store/uiStore";

function* nodeRects(s: ReactFlowState) {
  for (const n of s.nodeLookup.values()) {
    const p = n.internals.positionAbsolute;
    yield { x: p.x, y: p.y, width: n.measured.width ?? 0, height: n.measured.height ?? 0 };
  }
}

const minimapFree = (s: ReactFlowState) =>
  !minimapCovers(
    nodeRects(s),
    { x: s.transform[0], y: s.transform[1], zoom: s.transform[2] },
    s.width,
    s.height,
  );

/** Fit once the nodes are measured, on mount and each time `trigger` changes (a load, a split,
 * presenting). An empty canvas asks for nothing: its first node is not zoomed onto when added. */
export function useFitOn(trigger: unknown, fit: () => void) {
  const measured = useNodesInitialized();
  const [pending, setPending] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: trigger is what asks for a fit
  useEffect(() => {
    if (useGraph.getState().graph.nodes.length) setPending(true);
  }, [trigger]);
  useEffect(() => {
    if (!pending || !measured) return;
    setPending(false);
    // After the frame's layout: the canvas has its new size once a panel has folded.
    requestAnimationFrame(fit);
  }, [pending, measured, fit]);
}

/** The canvas's zoom as a CSS variable on React Flow's element, for what must keep a size on
 * screen (ports' touch targets), set without a render of the canvas. */
export function useZoomVariable() {
  const store = useStoreApi();
  useEffect(() => {
    let last = Number.NaN;
    const set = (s: ReactFlowState) => {
      if (s.transform[2] === last || !s.domNode) return;
      last = s.transform[2];
      s.domNode.style.setProperty("--flow-zoom", String(last));
    };
    set(store.getState());
    return store.subscribe(set);
  }, [store]);
}

/** A new scale zooms the canvas with the panels' text, about the canvas's centre. */
export function useScaleZoom() {
  const flow = useReactFlow();
  const store = useStoreApi();
  const scale = useUi((s) => s.scale);
  const last = useRef(scale);
  useEffect(() => {
    if (scale === last.current) return;
    const ratio = scale / last.current;
    last.current = scale;
    const { width, height } = store.getState();
    void flow.setViewport(zoomAbout(flow.getViewport(), ratio, width / 2, height / 2));
  }, [scale, flow, store]);
}

/** Whether the minimap may show: it hides no node where it is (core/minimap.ts). A boolean, so
 * the canvas renders again only when it flips, not on every pan. */
export const useMinimapFree = () => useStore(minimapFree);

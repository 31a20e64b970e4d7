// Fit for the main canvas: the whole graph when it fits at a readable zoom, else the readable zoom
// from the graph's start (core/fit.ts). The floor follows the scale, and is a room's when presenting.
import { useReactFlow, useStoreApi } from "@xyflow/react";
import { useCallback } from "react";
import { floorZoom, READABLE_TITLE_PX, readableFit, startOf } from "../core/fit";
import { presenting } from "../core/prefs";
import { useUi } from "../store/uiStore";

/** The canvas font size of node titles, as the stylesheet sets it (12 px unless it changed). */
function titleFontPx(root: Element | null | undefined): number {
  const title = root?.querySelector(".react-flow__node .op-name");
  const px = title ? Number.parseFloat(getComputedStyle(title).fontSize) : Number.NaN;
  return Number.isFinite(px) && px > 0 ? px : 12;
}

/** On a touch screen port rows are 24 px apart at zoom 1 (presentation.css), each port's 24 px
 * target its own: Fit does not go below it there. */
const TOUCH_MIN_ZOOM = 1;

/** The smallest zoom Fit may pick now: titles at the readable size for a desk or a room, × the
 * scale; on a touch screen, no less than the zoom that keeps ports a finger apart. */
export function readableFloor(root?: Element | null): number {
  const ui = useUi.getState();
  const readable = (presenting(ui) ? READABLE_TITLE_PX.room : READABLE_TITLE_PX.desk) * ui.scale;
  const floor = floorZoom(titleFontPx(root), readable);
  return matchMedia("(pointer: coarse)").matches ? Math.max(floor, TOUCH_MIN_ZOOM) : floor;
}

export function useReadableFit(): () => void {
  const flow = useReactFlow();
  const store = useStoreApi();
  return useCallback(() => {
    const { domNode, maxZoom } = store.getState();
    const nodes = flow.getNodes();
    // The canvas measured now, not as React Flow last saw it: a panel may just have folded away.
    const box = domNode?.getBoundingClientRect();
    if (!nodes.length || !box?.width || !box.height) return;
    const floor = Math.min(readableFloor(domNode), maxZoom);
    const bounds = flow.getNodesBounds(nodes);
    const rects = nodes.map((n) => ({
      ...n.position,
      width: n.measured?.width ?? 0,
      height: n.measured?.height ?? 0,
    }));
    const options = { padding: 0.08, floor, max: 1.2 };
    void flow.setViewport(readableFit(bounds, box.width, box.height, options, startOf(rects)));
  }, [flow, store]);
}

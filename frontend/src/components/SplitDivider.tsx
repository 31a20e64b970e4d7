// The bar between the canvas and the backward graph: drag it (mouse, pen or finger) to give one
// of them more room, double-click it for half and half. The share is kept per browser, like the
// other view settings, since a projector and a tablet want different ones.
import { useCallback, useState } from "react";

const KEY = "dagrad.split";
const MIN = 0.2;
const MAX = 0.8;

export const clampShare = (f: number) => Math.min(MAX, Math.max(MIN, Number.isFinite(f) ? f : 0.5));

function stored(): number {
  try {
    const v = localStorage.getItem(KEY);
    return v === null ? 0.5 : clampShare(Number(v));
  } catch {
    return 0.5;
  }
}

/** The canvas's share of the split, kept per browser, and its setter. */
export function useSplitShare(): [number, (f: number) => void] {
  const [share, setShare] = useState(stored);
  const keep = useCallback((f: number) => {
    setShare(f);
    try {
      localStorage.setItem(KEY, String(f));
    } catch {
      // private mode: the share lasts as long as the page
    }
  }, []);
  return [share, keep];
}

export function SplitDivider({
  container,
  onShare,
}: {
  container: React.RefObject<HTMLElement | null>;
  onShare: (f: number) => void;
}) {
  return (
    <hr
      className="split-divider"
      data-testid="split-divider"
      aria-orientation="vertical"
      title="Drag to share the room between the two graphs; double-click for half and half"
      onDoubleClick={() => onShare(0.5)}
      onPointerDown={(e) => {
        const box = container.current?.getBoundingClientRect();
        if (!box) return;
        e.preventDefault();
        const move = (m: PointerEvent) => onShare(clampShare((m.clientX - box.left) / box.width));
        const up = () => {
          window.removeEventListener("pointermove", move);
          window.removeEventListener("pointerup", up);
        };
        window.addEventListener("pointermove", move);
        window.addEventListener("pointerup", up);
      }}
    />
  );
}

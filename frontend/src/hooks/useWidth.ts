// The content width of an element, in CSS pixels, kept up to date as its panel is resized.
import { type RefObject, useEffect, useState } from "react";

export function useWidth(ref: RefObject<HTMLElement | null>, fallback: number): number {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(0, Math.floor(el.clientWidth)) || fallback);
    measure();
    if (typeof ResizeObserver === "undefined") return; // jsdom
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, fallback]);
  return width;
}

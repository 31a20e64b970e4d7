// The toolbar's one line: its items in order while they fit, the least needed moved into the "⋯"
// menu when they do not (core/overflow.ts), so a 1024 px tablet keeps the canvas its height.
import { type ReactNode, useEffect, useLayoutEffect, useReducer, useRef, useState } from "react";
import { overflowing } from "../core/overflow";

export interface ToolItem {
  key: string;
  node: ReactNode;
  /** How much it is needed on the row: the lowest goes into the menu first. */
  keep: number;
  /** It starts a group: a wider gap before it. */
  group?: boolean;
  /** It starts the group kept at the right end of the row. */
  right?: boolean;
}

const GAP = 6;
const GUESS = 90; // px, for an item not yet measured

export function ToolbarRow({ items, menu }: { items: ToolItem[]; menu: ReactNode }) {
  const row = useRef<HTMLDivElement>(null);
  const widths = useRef(new Map<string, number>());
  const [available, setAvailable] = useState(Number.POSITIVE_INFINITY);
  const [, remeasured] = useReducer((n: number) => n + 1, 0);
  const [open, setOpen] = useState(false);
  const more = useRef<HTMLDivElement>(null);

  const hidden = overflowing(
    items.map((it) => ({ key: it.key, keep: it.keep, width: widths.current.get(it.key) ?? GUESS })),
    available,
    GAP,
    0,
  );

  // Each item's width as drawn on the row, kept for when it is in the menu; re-read after every
  // render, since a label changes ("Run" / "Run again").
  useLayoutEffect(() => {
    const el = row.current;
    if (!el) return;
    let changed = false;
    for (const child of el.querySelectorAll<HTMLElement>(":scope > [data-key]")) {
      const key = child.dataset.key ?? "";
      const w = child.getBoundingClientRect().width;
      if (Math.abs((widths.current.get(key) ?? -1) - w) > 0.5) {
        widths.current.set(key, w);
        changed = true;
      }
    }
    if (changed) remeasured();
    if (el.clientWidth !== available) setAvailable(el.clientWidth);
  });

  useEffect(() => {
    const el = row.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setAvailable(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // The menu closes on a click elsewhere, on Escape, and once one of its buttons has acted.
  useEffect(() => {
    if (!open) return;
    const away = (e: PointerEvent) => {
      if (!more.current?.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("pointerdown", away);
    document.addEventListener("keydown", esc);
    return () => {
      document.removeEventListener("pointerdown", away);
      document.removeEventListener("keydown", esc);
    };
  }, [open]);

  const inMenu = items.filter((it) => hidden.has(it.key));
  return (
    <>
      <div ref={row} className="toolbar-row" data-testid="toolbar-row">
        {items
          .filter((it) => !hidden.has(it.key))
          .map((it) => (
            <div
              key={it.key}
              data-key={it.key}
              className={`tb-item${it.group ? " group-start" : ""}${it.right ? " push" : ""}`}
            >
              {it.node}
            </div>
          ))}
      </div>
      <div className="toolbar-more" ref={more}>
        <button
          type="button"
          data-testid="toolbar-more"
          aria-haspopup="menu"
          aria-expanded={open}
          title={
            inMenu.length
              ? "More: what the toolbar has no room for, text and zoom, the side panels"
              : "More: text and zoom, the side panels"
          }
          onClick={() => setOpen(!open)}
        >
          ⋯
        </button>
        {open && (
          // biome-ignore lint/a11y/useKeyWithClickEvents: a click bubbling up from one of its buttons closes it
          <div
            className="toolbar-menu"
            role="menu"
            data-testid="toolbar-menu"
            onClick={(e) => (e.target as HTMLElement).closest("button") && setOpen(false)}
          >
            {inMenu.map((it) => (
              <div key={it.key} className="menu-item" data-key={it.key}>
                {it.node}
              </div>
            ))}
            {inMenu.length > 0 && <hr />}
            {menu}
          </div>
        )}
      </div>
    </>
  );
}

// Which toolbar items go into the "⋯" menu: the row keeps the items it has room for, giving up
// the least needed first, so the toolbar stays on one line at any width (a 1024 px tablet included).

export interface RowItem {
  key: string;
  /** Its width in the row, px, as last measured. */
  width: number;
  /** How much it is needed on the row: the lowest goes to the menu first, the rightmost of equals first. */
  keep: number;
}

/** The keys of the items that do not fit in `available` px, with `gap` px between items and
 * `more` px for the "⋯" button that then has to be shown too. */
export function overflowing(items: RowItem[], available: number, gap: number, more: number): Set<string> {
  const total = (list: RowItem[]) =>
    list.reduce((sum, it) => sum + it.width, 0) + gap * Math.max(0, list.length - 1);
  const out = new Set<string>();
  if (total(items) <= available) return out;
  // Give up items least needed first; among equals, the later one in the row.
  const order = items
    .map((it, i) => ({ it, i }))
    .sort((a, b) => a.it.keep - b.it.keep || b.i - a.i)
    .map(({ it }) => it);
  let shown = items;
  for (const it of order) {
    if (total(shown) + gap + more <= available) break;
    out.add(it.key);
    shown = shown.filter((s) => s !== it);
  }
  return out;
}

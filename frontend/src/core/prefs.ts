// The page's presentation settings, remembered per browser: which side panels are open and the
// text-and-zoom scale. Stored as one small JSON object; anything unreadable falls back to the defaults.

export const SCALES = [1, 1.25, 1.5, 2] as const;
export type Scale = (typeof SCALES)[number];

export interface Prefs {
  palette: boolean;
  inspector: boolean;
  scale: Scale;
}

export const DEFAULT_PREFS: Prefs = { palette: true, inspector: true, scale: 1 };

export const PREFS_KEY = "dagrad.presentation.v1";

/** Below this page width (a tablet held upright, 768 px) the palette starts folded, unless the
 * browser remembers it open: between it and the inspector the canvas would be a strip. */
export const NARROW = 900;

/** The stored settings, each one checked on its own: a bad scale keeps the stored panels. A
 * setting never stored takes its default, for a page `width` wide. */
export function parsePrefs(text: string | null, width = Number.POSITIVE_INFINITY): Prefs {
  let raw: unknown;
  try {
    raw = text ? JSON.parse(text) : null;
  } catch {
    raw = null;
  }
  const o = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const scale = SCALES.find((s) => s === o.scale) ?? DEFAULT_PREFS.scale;
  return {
    palette: typeof o.palette === "boolean" ? o.palette : DEFAULT_PREFS.palette && width >= NARROW,
    inspector: typeof o.inspector === "boolean" ? o.inspector : DEFAULT_PREFS.inspector,
    scale,
  };
}

/** Presenting: both side panels folded away, the canvas is the page and a room is reading it. */
export const presenting = (p: Prefs) => !p.palette && !p.inspector;

/** The step after (or before) `s` in SCALES, kept at the ends. */
export function stepScale(s: Scale, by: 1 | -1): Scale {
  const i = SCALES.indexOf(s) + by;
  return SCALES[Math.max(0, Math.min(SCALES.length - 1, i))];
}

// The page's presentation, remembered per browser (core/prefs.ts): the side panels folded or open,
// and the text-and-zoom scale.
import { create } from "zustand";
import { PREFS_KEY, type Prefs, parsePrefs, presenting, type Scale } from "../core/prefs";

interface UiState extends Prefs {
  togglePalette(): void;
  toggleInspector(): void;
  /** Fold both panels away, or bring both back: presentation mode. */
  togglePresenting(): void;
  setScale(scale: Scale): void;
}

function read(): Prefs {
  const width = typeof window === "undefined" ? undefined : window.innerWidth;
  try {
    return parsePrefs(localStorage.getItem(PREFS_KEY), width);
  } catch {
    return parsePrefs(null, width); // storage disabled: the defaults, for this page only
  }
}

export const useUi = create<UiState>()((set, get) => ({
  ...read(),
  togglePalette: () => set({ palette: !get().palette }),
  toggleInspector: () => set({ inspector: !get().inspector }),
  togglePresenting: () => {
    const open = presenting(get());
    set({ palette: open, inspector: open });
  },
  setScale: (scale) => set({ scale }),
}));

useUi.subscribe((s) => {
  try {
    localStorage.setItem(
      PREFS_KEY,
      JSON.stringify({ palette: s.palette, inspector: s.inspector, scale: s.scale }),
    );
  } catch {
    // storage full or disabled: the settings last as long as the page
  }
});

// The text-and-zoom scale, and the side panels, as the toolbar's "⋯" menu offers them.
import { SCALES } from "../core/prefs";
import { useUi } from "../store/uiStore";

export function ScaleControl() {
  const scale = useUi((s) => s.scale);
  return (
    <div className="scale-control">
      <span className="menu-label">Text and zoom</span>
      <div className="seg" role="radiogroup" aria-label="Text and zoom">
        {SCALES.map((s) => (
          <button
            type="button"
            key={s}
            aria-pressed={s === scale}
            className={s === scale ? "on" : ""}
            data-testid={`scale-${s * 100}`}
            onClick={() => useUi.getState().setScale(s)}
            title="The side panels' text and the canvas's zoom; Fit keeps node titles this much larger"
          >
            {s * 100}%
          </button>
        ))}
      </div>
    </div>
  );
}

export function PanelSwitches() {
  const palette = useUi((s) => s.palette);
  const inspector = useUi((s) => s.inspector);
  const ui = useUi.getState();
  return (
    <div className="panel-switches">
      <button type="button" aria-pressed={palette} onClick={ui.togglePalette} data-testid="menu-palette">
        {palette ? "Fold the palette" : "Show the palette"} <kbd>[</kbd>
      </button>
      <button
        type="button"
        aria-pressed={inspector}
        onClick={ui.toggleInspector}
        data-testid="menu-inspector"
      >
        {inspector ? "Fold the inspector" : "Show the inspector"} <kbd>]</kbd>
      </button>
    </div>
  );
}

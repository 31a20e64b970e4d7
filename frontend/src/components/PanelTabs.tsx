// The buttons that fold the side panels away and bring them back, on the canvas's top corners
// (keys [ and ]; P folds or opens both: presentation mode).
import { useUi } from "../store/uiStore";

function Tab({ side, open, name, label, onClick }: TabProps) {
  const [verb, key] = side === "left" ? ["palette", "["] : ["inspector", "]"];
  const says = open ? `Fold the ${verb} away` : `Show the ${verb}`;
  return (
    <button
      type="button"
      className={`panel-tab ${side}${open ? "" : " folded"}`}
      data-testid={`toggle-${name}`}
      aria-expanded={open}
      aria-label={says}
      title={`${says} ( ${key} )`}
      onClick={onClick}
    >
      {label}
    </button>
  );
}

interface TabProps {
  side: "left" | "right";
  open: boolean;
  name: string;
  label: string;
  onClick: () => void;
}

export function PanelTabs({ palette: hasPalette }: { palette: boolean }) {
  const palette = useUi((s) => s.palette);
  const inspector = useUi((s) => s.inspector);
  const ui = useUi.getState();
  return (
    <>
      {hasPalette && (
        <Tab
          side="left"
          open={palette}
          name="palette"
          label={palette ? "«" : "Ops »"}
          onClick={ui.togglePalette}
        />
      )}
      <Tab
        side="right"
        open={inspector}
        name="inspector"
        label={inspector ? "»" : "« Inspector"}
        onClick={ui.toggleInspector}
      />
    </>
  );
}

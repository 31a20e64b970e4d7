// The page: toolbar on top, palette | canvas (and the backward graph beside it) | inspector,
// status bar below.
import { ReactFlowProvider } from "@xyflow/react";
import { useEffect, useRef, useState } from "react";
import { BackwardView } from "./components/BackwardView";
import { Canvas } from "./components/Canvas";
import { ExamplesDialog } from "./components/ExamplesDialog";
import { Inspector } from "./components/Inspector";
import { Palette } from "./components/Palette";
import { PanelTabs } from "./components/PanelTabs";
import { RoomBar } from "./components/RoomBar";
import { ShareBar } from "./components/ShareBar";
import { SplitDivider, useSplitShare } from "./components/SplitDivider";
import { StatusBar } from "./components/StatusBar";
import { TokenForm } from "./components/TokenForm";
import { Toolbar } from "./components/Toolbar";
import { useAutosave } from "./hooks/useAutosave";
import { useBootstrap } from "./hooks/useBootstrap";
import { useKeyboard } from "./hooks/useKeyboard";
import { useLiveValidation } from "./hooks/useLiveValidation";
import { usePaintMark } from "./hooks/usePaintMark";
import { useResults } from "./store/resultsStore";
import { useTrain } from "./store/trainStore";
import { useUi } from "./store/uiStore";

function Editor() {
  const [examples, setExamples] = useState(false);
  const backward = useResults((s) => s.backward);
  const [share, setShare] = useSplitShare();
  const canvases = useRef<HTMLDivElement>(null);
  // Presentation (store/uiStore.ts): either panel folded away, and the scale of the panels' text.
  const palette = useUi((s) => s.palette) && !backward;
  const inspector = useUi((s) => s.inspector);
  const scale = useUi((s) => s.scale);
  useLiveValidation();
  useAutosave();
  useKeyboard();
  usePaintMark();
  // A page that closes ends its training: the socket goes, and the server stops the run.
  useEffect(() => {
    const end = () => useTrain.getState().disconnect();
    window.addEventListener("pagehide", end);
    return () => {
      window.removeEventListener("pagehide", end);
      end();
    };
  }, []);
  return (
    <div className="app" style={{ "--ui-scale": scale } as React.CSSProperties}>
      <Toolbar onExamples={() => setExamples(true)} />
      <RoomBar />
      <ShareBar />
      {/* With the backward graph beside the canvas the palette makes room: this is for looking. */}
      <main
        className={`workspace${backward ? " exploring" : ""}${palette ? "" : " no-palette"}${inspector ? "" : " no-inspector"}`}
      >
        {palette && <Palette />}
        <div
          ref={canvases}
          className={`canvases${backward ? " split" : ""}`}
          style={backward ? { gridTemplateColumns: `${share}fr 8px ${1 - share}fr` } : undefined}
        >
          <Canvas />
          {backward && <SplitDivider container={canvases} onShare={setShare} />}
          {backward && <BackwardView />}
          <PanelTabs palette={!backward} />
        </div>
        {inspector && <Inspector />}
      </main>
      <StatusBar />
      {examples && <ExamplesDialog onClose={() => setExamples(false)} />}
    </div>
  );
}

export function App() {
  const [boot, retry] = useBootstrap();
  if (boot.status === "loading") return <div className="splash">Loading the op registry…</div>;
  if (boot.status === "token") return <TokenForm onAccepted={retry} />;
  if (boot.status === "failed") {
    return (
      <div className="splash">
        <h2>dagrad cannot start</h2>
        <p>{boot.message}</p>
        <button type="button" onClick={retry}>
          Try again
        </button>
      </div>
    );
  }
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}

// The top bar: file actions, editing actions, and the run.
import { useReactFlow } from "@xyflow/react";
import { useRef } from "react";
import { openFile, replaceGraph, saveFile, shareUrl } from "../actions/files";
import { present, stopPresenting } from "../actions/room";
import { runGraph } from "../actions/run";
import { gradModeTitle } from "../core/explain";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useRoom } from "../store/roomStore";

export function Toolbar({ onExamples }: { onExamples: () => void }) {
  const running = useResults((s) => s.running);
  const presenting = useRoom((s) => s.role === "presenting");
  const mode = useResults((s) => s.mode);
  const backward = useResults((s) => s.backward);
  const ran = useResults((s) => s.run?.run);
  const canUndo = useGraph((s) => s.history.past.length > 0);
  const canRedo = useGraph((s) => s.history.future.length > 0);
  const g = useGraph.getState();
  const flow = useReactFlow();
  const fileInput = useRef<HTMLInputElement>(null);

  return (
    <header className="toolbar">
      <div className="brand">
        dagrad <span className="muted">autograd explorer</span>
      </div>
      <div className="group">
        <button type="button" data-testid="examples-button" onClick={onExamples}>
          Examples
        </button>
        <button
          type="button"
          data-testid="new-button"
          onClick={() => replaceGraph(null, "A new, empty graph.")}
          title="A new, empty graph"
        >
          New
        </button>
        <button type="button" data-testid="open-button" onClick={() => fileInput.current?.click()}>
          Open…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          hidden
          data-testid="open-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) openFile(f);
            e.target.value = "";
          }}
        />
        <button type="button" data-testid="save-button" onClick={saveFile}>
          Save
        </button>
        <button type="button" data-testid="share-button" onClick={shareUrl}>
          Share link
        </button>
      </div>
      <div className="group">
        <button type="button" onClick={g.undo} disabled={!canUndo} title="Undo (Ctrl+Z)">
          ↶ Undo
        </button>
        <button type="button" onClick={g.redo} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)">
          ↷ Redo
        </button>
        <button
          type="button"
          data-testid="layout-button"
          onClick={g.layout}
          title="Arrange the graph left to right"
        >
          Auto-layout
        </button>
        <button type="button" onClick={() => flow.fitView({ padding: 0.15 })}>
          Fit
        </button>
        <button
          type="button"
          data-testid="present-button"
          onClick={() => (useRoom.getState().role === "presenting" ? stopPresenting() : void present())}
          title="Open a room: the class follows this page live from a link"
        >
          {presenting ? "Stop presenting" : "Present"}
        </button>
        <button
          type="button"
          data-testid="no-grad-button"
          onClick={() => g.regionFromSelection()}
          title="Run the selected nodes under torch.no_grad(): their results do not require grad"
        >
          no_grad
        </button>
      </div>
      <div className="group right">
        <div className="seg" role="radiogroup" aria-label="Show on the canvas">
          <button
            type="button"
            data-testid="mode-value"
            className={mode === "value" ? "on" : ""}
            onClick={() => useResults.getState().setMode("value")}
          >
            Values
          </button>
          <button
            type="button"
            data-testid="mode-grad"
            className={mode === "grad" ? "on" : ""}
            title={gradModeTitle(ran)}
            onClick={() => useResults.getState().setMode("grad")}
          >
            Gradients
          </button>
        </div>
        <button
          type="button"
          data-testid="backward-toggle"
          className={backward ? "on" : ""}
          aria-pressed={backward}
          onClick={() => useResults.getState().setBackward(!backward)}
          title="Show the autograd graph the run builds beside the canvas (the next run asks for it)"
        >
          Backward graph
        </button>
        <button
          type="button"
          className="primary"
          data-testid="run-button"
          onClick={runGraph}
          disabled={running}
          title="Run forward and backward (Ctrl+Enter)"
        >
          {running ? "Running…" : ran ? "▶ Run again" : "▶ Run"}
        </button>
      </div>
    </header>
  );
}

// The top bar: file actions, editing actions, and the run, on one line at any width: what does not
// fit goes into the "⋯" menu (ToolbarRow), the least needed first.
import { useRef } from "react";
import { checkGradients } from "../actions/analysis";
import { openFile, replaceGraph, saveFile, shareUrl } from "../actions/files";
import { present, stopPresenting } from "../actions/room";
import { runGraph } from "../actions/run";
import { gradModeTitle } from "../core/explain";
import { presenting } from "../core/prefs";
import { useReadableFit } from "../hooks/useReadableFit";
import { useAnalysis } from "../store/analysisStore";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useRoom } from "../store/roomStore";
import { useTrain } from "../store/trainStore";
import { useUi } from "../store/uiStore";
import { PanelSwitches, ScaleControl } from "./ScaleControl";
import { ToolbarRow, type ToolItem } from "./ToolbarRow";

export function Toolbar({ onExamples }: { onExamples: () => void }) {
  const running = useResults((s) => s.running);
  const checking = useAnalysis((s) => s.checking);
  const presentingRoom = useRoom((s) => s.role === "presenting");
  const mode = useResults((s) => s.mode);
  const backward = useResults((s) => s.backward);
  const ran = useResults((s) => s.run?.run);
  const canUndo = useGraph((s) => s.history.past.length > 0);
  const canRedo = useGraph((s) => s.history.future.length > 0);
  const projecting = useUi(presenting);
  const training = useTrain((s) => s.open);
  const g = useGraph.getState();
  const fit = useReadableFit();
  const fileInput = useRef<HTMLInputElement>(null);

  // `keep`: how much each is needed on the row at a tablet's width; the lowest go to the menu first.
  const items: ToolItem[] = [
    {
      key: "examples",
      keep: 8,
      node: (
        <button type="button" data-testid="examples-button" onClick={onExamples}>
          Examples
        </button>
      ),
    },
    {
      key: "new",
      keep: 5,
      node: (
        <button
          type="button"
          data-testid="new-button"
          onClick={() => replaceGraph(null, "A new, empty graph.")}
          title="A new, empty graph"
        >
          New
        </button>
      ),
    },
    {
      key: "open",
      keep: 4,
      node: (
        <button type="button" data-testid="open-button" onClick={() => fileInput.current?.click()}>
          Open…
        </button>
      ),
    },
    {
      key: "save",
      keep: 4,
      node: (
        <button type="button" data-testid="save-button" onClick={saveFile}>
          Save
        </button>
      ),
    },
    {
      key: "share",
      keep: 3,
      node: (
        <button type="button" data-testid="share-button" onClick={shareUrl}>
          Share link
        </button>
      ),
    },
    {
      key: "undo",
      keep: 7,
      group: true,
      node: (
        <button type="button" onClick={g.undo} disabled={!canUndo} title="Undo (Ctrl+Z)">
          ↶ Undo
        </button>
      ),
    },
    {
      key: "redo",
      keep: 6,
      node: (
        <button type="button" onClick={g.redo} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)">
          ↷ Redo
        </button>
      ),
    },
    {
      key: "layout",
      keep: 2,
      node: (
        <button
          type="button"
          data-testid="layout-button"
          onClick={g.layout}
          title="Arrange the graph left to right"
        >
          Auto-layout
        </button>
      ),
    },
    {
      key: "fit",
      keep: 7,
      node: (
        <button
          type="button"
          data-testid="fit-button"
          onClick={fit}
          title="The whole graph, or as much of it as fits with readable titles (drag the canvas for the rest)"
        >
          Fit
        </button>
      ),
    },
    {
      key: "projector",
      keep: 7,
      node: (
        <button
          type="button"
          data-testid="presentation-button"
          className={projecting ? "on" : ""}
          aria-pressed={projecting}
          onClick={() => useUi.getState().togglePresenting()}
          title="Presentation mode: fold both side panels away, and Fit keeps node titles readable from the back of a room (P)"
        >
          Projector
        </button>
      ),
    },
    {
      key: "present",
      keep: 5,
      node: (
        <button
          type="button"
          data-testid="present-button"
          onClick={() => (useRoom.getState().role === "presenting" ? stopPresenting() : void present())}
          title="Open a room: the class follows this page live from a link"
        >
          {presentingRoom ? "Stop presenting" : "Present"}
        </button>
      ),
    },
    {
      key: "no_grad",
      keep: 1,
      node: (
        <button
          type="button"
          data-testid="no-grad-button"
          onClick={() => g.regionFromSelection()}
          title="Run the selected nodes under torch.no_grad(): their results do not require grad"
        >
          no_grad
        </button>
      ),
    },
    {
      key: "mode",
      keep: 9,
      right: true,
      node: (
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
      ),
    },
    {
      key: "backward",
      keep: 3,
      node: (
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
      ),
    },
    {
      key: "gradcheck",
      keep: 0, // an occasional check: the first into the menu
      node: (
        <button
          type="button"
          data-testid="gradcheck-button"
          onClick={checkGradients}
          disabled={checking}
          title="Compare every gradient with central finite differences in float64, as torch.autograd.gradcheck does; each node shows how far apart they are"
        >
          {checking ? "Checking…" : "Check gradients"}
        </button>
      ),
    },
    {
      key: "train",
      keep: 8,
      node: (
        <button
          type="button"
          data-testid="train-button"
          className={training ? "on" : ""}
          aria-pressed={training}
          onClick={() => {
            useTrain.getState().setOpen(!training);
            if (!training && !useUi.getState().inspector) useUi.getState().toggleInspector();
          }}
          title="Train the graph: optimiser steps on its parameters, a live loss curve and decision boundary"
        >
          Train
        </button>
      ),
    },
    {
      key: "run",
      keep: 10,
      node: (
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
      ),
    },
  ];

  return (
    <header className="toolbar">
      <div className="brand">
        dagrad <span className="muted">autograd explorer</span>
      </div>
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
      <ToolbarRow
        items={items}
        menu={
          <>
            <ScaleControl />
            <PanelSwitches />
          </>
        }
      />
    </header>
  );
}

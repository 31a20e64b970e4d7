// The run's settings, shown when no node is selected: loss, device, dtype, seed, backward passes,
// retain_graph, zero_grad and training (train or eval mode).
import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { guessLoss } from "../actions/run";
import type { RunConfig } from "../api/types";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useServer } from "../store/serverStore";
import { ExerciseSettings } from "./ExerciseSettings";
import { MarkdownText } from "./MarkdownText";

/** The title and the description (an exercise's instructions): click to edit, saved with the graph. */
function GraphInfo({ title, description }: { title: string | null; description: string | null }) {
  const [editing, setEditing] = useState(false);
  const setInfo = useGraph((s) => s.setInfo);
  if (!editing) {
    return (
      <>
        <h3>
          <button
            type="button"
            className="link graph-title"
            data-testid="graph-title"
            title="Edit the title and the description"
            onClick={() => setEditing(true)}
          >
            {title || "Untitled graph"} ✎
          </button>
        </h3>
        {description && <MarkdownText text={description} className="doc" testId="graph-description" />}
      </>
    );
  }
  return (
    <form
      className="graph-info"
      onSubmit={(e) => {
        e.preventDefault();
        const data = new FormData(e.currentTarget);
        const t = String(data.get("title") ?? "").trim();
        const d = String(data.get("description") ?? "").trim();
        setInfo({ title: t || null, description: d || null });
        setEditing(false);
      }}
    >
      <label htmlFor="graph-title-input">Title</label>
      <input id="graph-title-input" name="title" data-testid="graph-title-input" defaultValue={title ?? ""} />
      <label htmlFor="graph-description-input">Description, or an exercise's instructions</label>
      <textarea
        id="graph-description-input"
        name="description"
        data-testid="graph-description-input"
        rows={5}
        defaultValue={description ?? ""}
      />
      <div className="row">
        <button type="submit" data-testid="graph-info-save">
          Save
        </button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function RunSettings() {
  // Only what is shown: moving or selecting nodes leaves all of these unchanged.
  const title = useGraph((s) => s.graph.title);
  const description = useGraph((s) => s.graph.description);
  const run = useGraph((s) => s.graph.run);
  const nodeIds = useGraph(useShallow((s) => s.graph.nodes.map((n) => n.id)));
  const setRun = useGraph((s) => s.setRun);
  const metas = useResults((s) => s.metas);
  const guess = useGraph((s) => guessLoss(s.graph, metas));
  const devices = useServer((s) => s.devices);
  return (
    <div className="inspector-body" data-testid="run-settings">
      <GraphInfo title={title ?? null} description={description ?? null} />
      <ExerciseSettings />
      <h4>Run</h4>
      <div className="field">
        <label htmlFor="run-output">Loss (node to differentiate)</label>
        <select
          id="run-output"
          data-testid="run-output"
          value={run.output ?? ""}
          onChange={(e) => setRun({ output: e.target.value || null })}
        >
          <option value="">{guess ? `auto: ${guess}` : "none: forward only"}</option>
          {nodeIds.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="run-wrt">Gradients for</label>
        <div id="run-wrt" className="muted">
          {run.wrt ? run.wrt.join(", ") || "nothing" : "every tensor that requires grad (the parameters)"}
          {run.wrt && (
            <button type="button" className="link" onClick={() => setRun({ wrt: null })}>
              {" "}
              reset
            </button>
          )}
        </div>
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="run-device">Device</label>
          <select
            id="run-device"
            value={run.device ?? "cpu"}
            onChange={(e) => setRun({ device: e.target.value as RunConfig["device"] })}
          >
            {devices.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="run-dtype">Dtype</label>
          <select
            id="run-dtype"
            value={run.dtype ?? "float32"}
            onChange={(e) => setRun({ dtype: e.target.value as RunConfig["dtype"] })}
          >
            <option>float32</option>
            <option>float64</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="run-seed">Seed</label>
          <input
            id="run-seed"
            type="number"
            min={0}
            value={run.seed ?? 0}
            onChange={(e) => setRun({ seed: Math.max(0, Number(e.target.value) || 0) })}
          />
        </div>
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="run-grad-output">Non-scalar loss</label>
          <select
            id="run-grad-output"
            value={run.grad_output ?? ""}
            onChange={(e) => setRun({ grad_output: (e.target.value || null) as RunConfig["grad_output"] })}
          >
            <option value="">(scalar loss)</option>
            <option value="sum">sum()</option>
            <option value="ones">backward(ones)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="run-passes">Backward passes</label>
          <input
            id="run-passes"
            type="number"
            min={1}
            max={8}
            value={run.backward_passes ?? 1}
            onChange={(e) => setRun({ backward_passes: Math.max(1, Number(e.target.value) || 1) })}
          />
        </div>
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="run-retain">retain_graph</label>
          <select
            id="run-retain"
            title="What each backward passes as retain_graph: without it, a backward frees the tensors autograd saved"
            value={run.retain_graph === true ? "on" : run.retain_graph === false ? "off" : ""}
            onChange={(e) =>
              setRun({
                retain_graph: e.target.value === "on" ? true : e.target.value === "off" ? false : null,
              })
            }
          >
            <option value="">between passes</option>
            <option value="on">after every pass</option>
            <option value="off">never (PyTorch's default)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="run-zero-grad">zero_grad</label>
          <label className="check" title="Set every gradient to None before each pass after the first">
            <input
              id="run-zero-grad"
              type="checkbox"
              checked={run.zero_grad ?? false}
              onChange={(e) => setRun({ zero_grad: e.target.checked })}
            />{" "}
            between passes
          </label>
        </div>
        <div className="field">
          <label htmlFor="run-training">training</label>
          <label
            className="check"
            title="module.training: batch_norm uses the batch's statistics and updates its running buffers, dropout drops; off is eval mode"
          >
            <input
              id="run-training"
              type="checkbox"
              checked={run.training ?? true}
              onChange={(e) => setRun({ training: e.target.checked })}
            />{" "}
            train mode (off: eval)
          </label>
        </div>
      </div>
      <h4>Shortcuts</h4>
      <ul className="shortcuts muted">
        <li>/ search the palette, Enter adds the op</li>
        <li>Ctrl+Enter run · Delete remove · Ctrl+A select all</li>
        <li>Ctrl+Z / Ctrl+Shift+Z undo / redo · Ctrl+C / Ctrl+V copy / paste</li>
        <li>Shift+drag select a box · G toggle values / gradients</li>
        <li>[ / ] fold the palette / inspector · P presentation mode (both)</li>
      </ul>
    </div>
  );
}

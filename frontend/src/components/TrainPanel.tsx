// The Train panel, in place of the inspector: the controls and the status line, the live loss
// curve, the decision boundary and a conv net's first kernels, then the settings (optimiser,
// steps, data), which are the graph's train section and are locked while a run goes.
import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import { DATASETS, statusLine } from "../core/training";
import { useGraph } from "../store/graphStore";
import { useTrain } from "../store/trainStore";
import { BoundaryView } from "./BoundaryView";
import { KernelsView } from "./KernelsView";
import { LossChart } from "./LossChart";
import "./training.css";

function NumberField({
  name,
  label,
  title,
  placeholder,
}: {
  name: string;
  label: string;
  title?: string;
  placeholder?: string;
}) {
  const value = useTrain((s) => String(s.form[name] ?? ""));
  const error = useTrain((s) => s.formErrors[name]);
  const locked = useTrain((s) => isActive(s.view.phase));
  const id = `train-${name}`;
  return (
    <div className="field">
      <label htmlFor={id} title={title}>
        {label}
      </label>
      <input
        id={id}
        data-testid={id}
        inputMode="decimal"
        placeholder={placeholder}
        value={value}
        disabled={locked}
        aria-invalid={!!error}
        onChange={(e) => useTrain.getState().setField(name, e.target.value)}
      />
      {error && <div className="field-error">{error}</div>}
    </div>
  );
}

function CheckField({ name, label, title }: { name: string; label: string; title?: string }) {
  const checked = useTrain((s) => Boolean(s.form[name]));
  const error = useTrain((s) => s.formErrors[name]);
  const locked = useTrain((s) => isActive(s.view.phase));
  return (
    <div className="field">
      <label className="check" title={title}>
        <input
          type="checkbox"
          data-testid={`train-${name}`}
          checked={checked}
          disabled={locked}
          onChange={(e) => useTrain.getState().setField(name, e.target.checked)}
        />{" "}
        {label}
      </label>
      {error && <div className="field-error">{error}</div>}
    </div>
  );
}

function SelectField({ name, label, options }: { name: string; label: string; options: [string, string][] }) {
  const value = useTrain((s) => String(s.form[name] ?? ""));
  const error = useTrain((s) => s.formErrors[name]);
  const locked = useTrain((s) => isActive(s.view.phase));
  const id = `train-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        data-testid={id}
        value={value}
        disabled={locked}
        onChange={(e) => useTrain.getState().setField(name, e.target.value)}
      >
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      {error && <div className="field-error">{error}</div>}
    </div>
  );
}

const isActive = (phase: string) => phase === "connecting" || phase === "running" || phase === "paused";

function Controls() {
  const phase = useTrain((s) => s.view.phase);
  const canReset = useTrain((s) => s.original !== null || s.view.phase !== "idle");
  const t = useTrain.getState();
  const active = isActive(phase);
  return (
    <div className="train-controls" role="toolbar" aria-label="Training">
      {phase === "running" || phase === "connecting" ? (
        <button type="button" data-testid="train-pause" onClick={t.pause} title="Pause after this step">
          ❚❚ Pause
        </button>
      ) : (
        <button
          type="button"
          className="primary"
          data-testid="train-play"
          onClick={t.play}
          title={phase === "paused" ? "Go on training" : "Train the graph with these settings"}
        >
          ▶ {phase === "paused" ? "Resume" : "Train"}
        </button>
      )}
      <button type="button" data-testid="train-step" onClick={t.step} title="One optimiser step, then wait">
        Step
      </button>
      <button
        type="button"
        data-testid="train-stop"
        onClick={t.stop}
        disabled={!active}
        title="Stop: the graph keeps the values of the step reached"
      >
        ■ Stop
      </button>
      <button
        type="button"
        data-testid="train-reset"
        onClick={t.reset}
        disabled={!canReset}
        title="Back to the values before training, and clear the results"
      >
        Reset
      </button>
    </div>
  );
}

export function TrainPanel() {
  const line = useTrain((s) => statusLine(s.view));
  const phase = useTrain((s) => s.view.phase);
  const optimizer = useTrain((s) => String(s.form.optimizer));
  const dataset = useTrain((s) => String(s.form.dataset ?? ""));
  const loadCount = useGraph((s) => s.loadCount);
  const sources = useGraph(
    useShallow((s) => s.graph.nodes.filter((n) => s.ops[n.data.op]?.source).map((n) => n.id)),
  );
  // A graph loaded (an example, a file) brings its own train section: the form follows it.
  useEffect(() => {
    if (loadCount) useTrain.getState().graphLoaded();
  }, [loadCount]);
  const nodeOptions: [string, string][] = [
    ["", "(choose an input node)"],
    ...sources.map((id) => [id, id] as [string, string]),
  ];
  return (
    <div className="inspector-body train-panel" data-testid="train-panel">
      <div className="insp-title">
        <h3>Train</h3>
        <button
          type="button"
          className="link"
          data-testid="train-close"
          onClick={() => useTrain.getState().setOpen(false)}
          title="Back to the inspector (ends a run in progress)"
        >
          × close
        </button>
      </div>
      <Controls />
      <p className={`train-status ${phase}`} data-testid="train-status" role="status">
        {line}
      </p>
      <LossChart />
      <BoundaryView />
      <KernelsView />
      <h4>Optimiser</h4>
      <SelectField
        name="optimizer"
        label="torch.optim"
        options={[
          ["sgd", "SGD"],
          ["adam", "Adam"],
          ["adamw", "AdamW"],
        ]}
      />
      <div className="field-row">
        <NumberField
          name="lr"
          label="lr"
          title="Learning rate: each step moves a parameter by lr × its update"
        />
        <NumberField name="weight_decay" label="weight_decay" />
      </div>
      {optimizer === "sgd" ? (
        <>
          <div className="field-row">
            <NumberField name="momentum" label="momentum" />
            <NumberField name="dampening" label="dampening" />
          </div>
          <CheckField name="nesterov" label="nesterov" />
        </>
      ) : (
        <div className="field-row">
          <NumberField name="beta1" label="β₁" />
          <NumberField name="beta2" label="β₂" />
          <NumberField name="eps" label="eps" />
        </div>
      )}
      <h4>Steps</h4>
      <div className="field-row">
        <NumberField name="steps" label="steps" />
        <NumberField name="seed" label="seed" title="Empty: a new draw each run" />
        <NumberField
          name="snapshot_every"
          label="snapshot every"
          title="Refresh the previews every this many steps"
        />
      </div>
      <CheckField
        name="zero_grad"
        label="zero_grad before each step"
        title="Off: gradients accumulate from step to step, as when optimizer.zero_grad() is forgotten"
      />
      <h4>Data</h4>
      <SelectField
        name="dataset"
        label="dataset"
        options={[["", "none: the graph's own inputs"], ...DATASETS.map((d) => [d, d] as [string, string])]}
      />
      {dataset && (
        <>
          <div className="field-row">
            <SelectField name="features" label="features into" options={nodeOptions} />
            <SelectField name="labels" label="labels into" options={nodeOptions} />
          </div>
          <div className="field-row">
            <NumberField name="batch_size" label="batch size" />
            <NumberField name="samples" label="samples" placeholder="default" />
            {dataset !== "digits" && <NumberField name="noise" label="noise" placeholder="default" />}
          </div>
          <div className="field-row">
            <NumberField name="test_fraction" label="test fraction" placeholder="default" />
            <NumberField name="data_seed" label="data seed" placeholder="default" />
            {dataset === "polynomial" && <NumberField name="degree" label="degree" placeholder="default" />}
            {(dataset === "blobs" || dataset === "spirals") && (
              <NumberField name="classes" label="classes" placeholder="default" />
            )}
          </div>
          <CheckField name="shuffle" label="shuffle the batches (by the seed)" />
        </>
      )}
    </div>
  );
}

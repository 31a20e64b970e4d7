// Per-sample gradients in the inspector (issue 15, 4.3's batches): for a parameter, one sample's
// gradient, picked by index or by its bar among every sample's gradient norm, and whether the
// samples' gradients add up (or average) to the batch gradient; for a batch input, that sample.
import { loadPerSample } from "../actions/analysis";
import { batchVerdict } from "../core/analysis";
import { useAnalysis } from "../store/analysisStore";
import { useResults } from "../store/resultsStore";
import { TensorView } from "./TensorView";
import "./analysis.css";

export function PerSamplePanel({ id }: { id: string }) {
  const meta = useResults((s) => s.metas[id]);
  const result = useAnalysis((s) => s.perSample);
  const loading = useAnalysis((s) => s.perSampleLoading);
  const error = useAnalysis((s) => s.perSampleError);
  const isParam = Boolean(meta?.is_leaf && meta.requires_grad);
  const isBatch = result
    ? result.batch.includes(id)
    : Boolean(meta?.is_leaf && !meta.requires_grad && meta.shape.length);
  if (!meta || !(isParam || isBatch)) return null;
  const param = result?.params.find((p) => p.node === id);
  const size = result?.batch_size ?? 0;
  const pick = (i: number) => loadPerSample(Math.max(0, Math.min(size - 1, i)));
  const most = param ? Math.max(...param.norms, 1e-30) : 1;
  return (
    <section className="per-sample" data-testid="per-sample">
      <h4>Per-sample gradients</h4>
      {!result && (
        <>
          <p className="muted">
            Each sample's gradient of each parameter: the loss of this graph fed one sample of the batch
            alone.
          </p>
          <button
            type="button"
            data-testid="per-sample-load"
            disabled={loading}
            onClick={() => loadPerSample(0)}
          >
            {loading ? "Computing…" : "Show per-sample gradients"}
          </button>
        </>
      )}
      {error && (
        <p className="op-error" data-testid="per-sample-error">
          {error}
        </p>
      )}
      {result && (
        <>
          <div className="sample-picker">
            <button
              type="button"
              onClick={() => pick(result.sample - 1)}
              disabled={result.sample === 0 || loading}
            >
              ◀
            </button>{" "}
            sample{" "}
            <input
              type="number"
              data-testid="per-sample-index"
              min={0}
              max={size - 1}
              value={result.sample}
              onChange={(e) => pick(Number(e.target.value))}
            />{" "}
            of {size}{" "}
            <button
              type="button"
              onClick={() => pick(result.sample + 1)}
              disabled={result.sample === size - 1 || loading}
            >
              ▶
            </button>
            <span className="muted"> · batch: {result.batch.join(", ")}</span>
          </div>
          {param && (
            <>
              <div className="norms" title="Each sample's gradient norm; click a bar to pick that sample">
                {param.norms.map((v, i) => (
                  <button
                    // biome-ignore lint/suspicious/noArrayIndexKey: the samples are the batch's, in order
                    key={i}
                    type="button"
                    className={i === result.sample ? "picked" : ""}
                    style={{ height: `${Math.max(4, (100 * v) / most)}%` }}
                    title={`sample ${i}: ‖grad‖ = ${v.toPrecision(4)}`}
                    onClick={() => pick(i)}
                  />
                ))}
              </div>
              <p className="verdict" data-testid="per-sample-verdict">
                {batchVerdict(param.sum_error, param.mean_error)}
              </p>
              <TensorView
                payload={param.grad}
                name={`${id}.grad of sample ${result.sample}`}
                testId="per-sample-grad"
                nodeId={id}
              />
            </>
          )}
          {result.inputs[id] && (
            <TensorView
              payload={result.inputs[id]}
              name={`${id}[${result.sample}]`}
              testId="per-sample-input"
              nodeId={id}
            />
          )}
        </>
      )}
    </section>
  );
}

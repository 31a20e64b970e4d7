// The first conv layer's kernels in the Train panel: as drawn (the step-0 snapshot) above as they
// stand at the last snapshot, on one colour scale, so that a student watches them turn from noise
// into edges and blobs as the Net learns (the course's "kernels visualized").
import { useMemo } from "react";
import { firstKernels, kernelLimit, kernelMaps, relativeChange } from "../core/kernels";
import { decode } from "../core/tensor";
import { useResults } from "../store/resultsStore";
import { useTrain } from "../store/trainStore";
import { ColorBar } from "./ColorBar";
import { Heatmap } from "./Heatmap";

const WIDTH = 300; // css px, as the boundary

export function KernelsView() {
  const initial = useTrain((s) => s.view.initial);
  const parameters = useTrain((s) => s.view.parameters);
  const step = useTrain((s) => s.view.snapshotStep);
  const run = useResults((s) => s.run);
  const id = useMemo(
    () => (initial ? firstKernels(parameters, (p) => initial[p]?.shape) : null),
    [initial, parameters],
  );
  const drawn = useMemo(() => (id && initial ? decode(initial[id]) : null), [id, initial]);
  const now = useMemo(() => (id && run ? decode(run.nodes[id]?.value) : null), [id, run]);
  if (!id || !drawn || !now || drawn.shape.join() !== now.shape.join()) return null;
  const [a, b] = [kernelMaps(drawn), kernelMaps(now)];
  const limit = kernelLimit(a, b);
  const change = relativeChange(drawn, now); // the whole weight, every in channel
  const [out, inChannels, kh, kw] = drawn.shape;
  return (
    <figure className="kernels" data-testid="train-kernels" data-kernels={id}>
      <h4>
        Kernels of <span className="mono">{id}</span>
      </h4>
      <p className="kernels-what">
        {out} kernels {kh}×{kw}
        {inChannels > 1 ? ", over in channel 0" : ""}
      </p>
      <div className="kernels-row">
        <span className="kernels-label">as drawn (step 0)</span>
        <Heatmap tensor={a} limit={limit} maxWidth={WIDTH} maxHeight={WIDTH * 0.6} gap={1} />
      </div>
      <div className="kernels-row" data-testid="train-kernels-now" data-step={step ?? 0}>
        <span className="kernels-label">step {step ?? 0}</span>
        <Heatmap tensor={b} limit={limit} maxWidth={WIDTH} maxHeight={WIDTH * 0.6} gap={1} />
      </div>
      <ColorBar limit={limit} />
      <figcaption data-testid="train-kernels-change">
        One colour scale for both.
        {change !== null && ` Changed by ${Math.round(change * 100)}% of their size (‖w − w₀‖ / ‖w₀‖).`}
      </figcaption>
    </figure>
  );
}

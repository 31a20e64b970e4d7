// Weight sharing made visible: each use's share of a shared tensor's gradient, and their sum.
import { useMemo } from "react";
import type { GradContribution } from "../api/types";
import { decode, formatNumber } from "../core/tensor";
import { useGraph } from "../store/graphStore";
import { Heatmap } from "./Heatmap";

function Row({ c }: { c: GradContribution }) {
  const t = useMemo(() => decode(c.grad), [c.grad]);
  return (
    <li>
      <div>
        via{" "}
        <button type="button" className="link" onClick={() => useGraph.getState().select(c.consumer)}>
          {c.consumer}
        </button>
        <span className="muted">.{c.port}</span> · norm {formatNumber(c.grad?.stats.norm)}
      </div>
      {t && t.data.length > 1 && <Heatmap tensor={t} maxWidth={140} maxHeight={60} />}
      {t && t.data.length === 1 && <span className="mono">{formatNumber(t.data[0], 6)}</span>}
    </li>
  );
}

export function Contributions({ id, contributions }: { id: string; contributions: GradContribution[] }) {
  return (
    <div className="contributions" data-testid="contributions">
      <h4>
        {id}.grad = {contributions.map((c) => `(via ${c.consumer})`).join(" + ")}
      </h4>
      <p className="muted">
        {id} is used {contributions.length} times; autograd adds the gradient each use sends back.
      </p>
      <ul>
        {contributions.map((c) => (
          <Row key={`${c.consumer}.${c.port}`} c={c} />
        ))}
      </ul>
    </div>
  );
}

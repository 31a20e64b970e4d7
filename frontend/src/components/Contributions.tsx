// Weight sharing made visible: each use's share of a shared tensor's gradient, and their sum.
import { useMemo } from "react";
import type { GradContribution } from "../api/types";
import { contributionsHeading, contributionsNote } from "../core/explain";
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

interface Props {
  id: string;
  contributions: GradContribution[];
  /** The run's backward passes: the shares accumulate over them as .grad does. */
  passes: number;
}

export function Contributions({ id, contributions, passes }: Props) {
  return (
    <div className="contributions" data-testid="contributions">
      <h4>{contributionsHeading(id, contributions)}</h4>
      <p className="muted">{contributionsNote(id, contributions.length, passes)}</p>
      <ul>
        {contributions.map((c) => (
          <Row key={`${c.consumer}.${c.port}`} c={c} />
        ))}
      </ul>
    </div>
  );
}

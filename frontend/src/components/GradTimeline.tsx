// A gradient after each backward pass: how .grad accumulates, or stays one pass's with zero_grad.
import type { TensorPayload } from "../api/types";
import { lineText } from "../core/tensor";

export function GradTimeline({ id, passes }: { id: string; passes: (TensorPayload | null)[] }) {
  return (
    <>
      <h4>{id}.grad after each backward pass</h4>
      <ol className="timeline" data-testid="grad-timeline">
        {passes.map((p, k) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the passes are in order and never move
          <li key={k}>
            <span className="muted">pass {k + 1}</span> <code>{p ? lineText(p) : "no gradient yet"}</code>
          </li>
        ))}
      </ol>
    </>
  );
}

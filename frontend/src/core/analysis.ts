// What the gradient check and per-sample gradients say, in words for the page (React-free).

import type { GradcheckNode, GradcheckResponse } from "../api/types";

export type CheckedNode = GradcheckNode;
export type CheckReport = GradcheckResponse;

/** 3 significant digits in scientific notation, and exact 0 as "0". */
export const sci = (v: number): string => (v === 0 ? "0" : v.toExponential(1));

/** The badge a node shows after a check: ✓ with the worst relative error, or ✗. */
export function badgeText(n: CheckedNode): string {
  return n.ok ? `✓ ${sci(n.max_rel_error)}` : `✗ ${sci(n.max_rel_error)}`;
}

/** The badge's tooltip: what was compared, how far apart, where it is worst. */
export function badgeTitle(n: CheckedNode, r: Pick<CheckReport, "eps" | "atol" | "rtol">): string {
  const what =
    n.kind === "derivative"
      ? `this grad node's value against finite differences of its outputs, moving ${n.moved}`
      : "its gradient against central finite differences";
  const lines = [
    `Gradient check (float64, eps ${r.eps}): ${what}.`,
    `${n.checked} of ${n.numel} elements checked${n.sampled ? " (a seeded sample)" : ""}.`,
    `Worst absolute error ${sci(n.max_abs_error)}, relative ${sci(n.max_rel_error)}.`,
  ];
  if (!n.ok) {
    lines.push(
      `${n.failing} element${n.failing === 1 ? "" : "s"} outside |a − n| ≤ ${r.atol} + ${r.rtol}·|n|; ` +
        `worst at [${n.worst_index.join(", ")}]: autograd ${n.worst_analytic.toPrecision(6)}, ` +
        `finite differences ${n.worst_numeric.toPrecision(6)}.`,
    );
  }
  if (n.kinks) {
    lines.push(
      `${n.kinks} element${n.kinks === 1 ? " sits" : "s sit"} on a kink (a tie of max pooling, relu at 0): ` +
        "the two one-sided differences disagree there and autograd takes one of them.",
    );
  }
  return lines.join("\n");
}

/** The status line after a check. */
export function checkSummary(r: CheckReport): string {
  const sample = r.sampled
    ? `a seeded sample of ${r.elements_checked.toLocaleString("en-US")} of ${r.elements_total.toLocaleString("en-US")} elements`
    : `all ${r.elements_checked.toLocaleString("en-US")} elements`;
  const bad = r.nodes.filter((n) => !n.ok).map((n) => n.node);
  const verdict = bad.length
    ? `${bad.length} of ${r.nodes.length} nodes disagree with finite differences: ${bad.join(", ")}`
    : `every gradient agrees with finite differences (${r.nodes.length} nodes)`;
  return `Gradient check: ${verdict}; float64, ${sample}, ${r.seconds.toFixed(1)} s.`;
}

/** Whether the samples' gradients add up to the batch gradient: by their sum, their mean, or neither. */
export function batchVerdict(sumError: number, meanError: number, tolerance = 1e-4): string {
  if (sumError <= tolerance && sumError <= meanError) {
    return `The samples' gradients add up to the batch gradient (largest difference ${sci(sumError)} of its largest element): a sum-reduced loss.`;
  }
  if (meanError <= tolerance) {
    return `The mean of the samples' gradients is the batch gradient (largest difference ${sci(meanError)} of its largest element): a mean-reduced loss.`;
  }
  return `Neither their sum nor their mean is the batch gradient (${sci(sumError)} and ${sci(meanError)} of its largest element): the samples interact.`;
}

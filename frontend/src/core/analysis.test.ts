import { describe, expect, it } from "vitest";
import {
  badgeText,
  badgeTitle,
  batchVerdict,
  type CheckedNode,
  type CheckReport,
  checkSummary,
  sci,
} from "./analysis";

const node = (over: Partial<CheckedNode> = {}): CheckedNode => ({
  node: "w1",
  kind: "gradient",
  moved: "w1",
  numel: 25,
  checked: 25,
  sampled: false,
  max_abs_error: 5.03e-9,
  max_rel_error: 7.14e-9,
  failing: 0,
  kinks: 0,
  ok: true,
  worst_index: [3, 1],
  worst_analytic: 0.41,
  worst_numeric: 0.41,
  ...over,
});
const report = (nodes: CheckedNode[], over: Partial<CheckReport> = {}): CheckReport => ({
  ok: nodes.every((n) => n.ok),
  dtype: "float64",
  max_elements: 128,
  eps: 1e-6,
  atol: 1e-5,
  rtol: 1e-3,
  elements_checked: 76,
  elements_total: 76,
  sampled: false,
  seconds: 0.02,
  nodes,
  ...over,
});

describe("gradient check words", () => {
  it("badges a node right or wrong with its worst relative error", () => {
    expect(sci(0)).toBe("0");
    expect(badgeText(node())).toBe("✓ 7.1e-9");
    expect(badgeText(node({ ok: false, max_rel_error: 0.333, failing: 3 }))).toBe("✗ 3.3e-1");
  });

  it("says where a wrong gradient is worst, and what a kink is", () => {
    const bad = badgeTitle(
      node({ ok: false, failing: 3, worst_index: [1], worst_analytic: -3.75, worst_numeric: -2.5, kinks: 1 }),
      report([]),
    );
    expect(bad).toContain("3 elements outside |a − n| ≤ 0.00001 + 0.001·|n|");
    expect(bad).toContain("worst at [1]: autograd -3.75000, finite differences -2.50000");
    expect(bad).toContain("1 element sits on a kink");
    const derivative = badgeTitle(
      node({ kind: "derivative", moved: "x", sampled: true, checked: 3 }),
      report([]),
    );
    expect(derivative).toContain("moving x");
    expect(derivative).toContain("3 of 25 elements checked (a seeded sample)");
  });

  it("sums a report up in one line", () => {
    expect(checkSummary(report([node(), node({ node: "q" })]))).toBe(
      "Gradient check: every gradient agrees with finite differences (2 nodes); float64, all 76 elements, 0.0 s.",
    );
    const sampled = report([node(), node({ node: "x", ok: false })], {
      sampled: true,
      elements_checked: 128,
      elements_total: 402267,
      seconds: 3.14,
    });
    expect(checkSummary(sampled)).toBe(
      "Gradient check: 1 of 2 nodes disagree with finite differences: x; float64, a seeded sample of 128 of 402,267 elements, 3.1 s.",
    );
  });

  it("tells a sum-reduced loss from a mean-reduced one and from samples that interact", () => {
    expect(batchVerdict(1e-9, 0.9)).toContain("add up to the batch gradient");
    expect(batchVerdict(0.9, 2e-8)).toContain("The mean of the samples' gradients is the batch gradient");
    expect(batchVerdict(0.12, 0.72)).toContain("the samples interact");
  });
});

import { describe, expect, it } from "vitest";
import type { BackwardGraph, BackwardStep, EvaluateResponse, OpInfo, TensorPayload } from "../api/types";
import {
  accumulateTex,
  fillText,
  leafFill,
  moved,
  ruleLines,
  ruleShapes,
  stepView,
  type Wire,
  withShapes,
} from "./steps";

const payload = (shape: number[], values: unknown): TensorPayload => ({
  shape,
  dtype: "float32",
  numel: shape.reduce((a, b) => a * b, 1),
  stats: { min: 0, max: 0, mean: 0, std: 0, norm: 0, nan: 0, inf: 0 },
  data: { encoding: "list", dtype: "float32", values },
  truncated: false,
});

// The 4.1 DAG, cut down: w1 feeds x1 = w1 @ x and x3 = w1 @ x1; q = x3.norm().
const GRAPH: BackwardGraph = {
  nodes: [
    { id: 0, name: "LinalgVectorNormBackward0", node: "q", next: [{ to: 1, slot: 0 }], saved: [] },
    {
      id: 1,
      name: "MvBackward0",
      node: "x3",
      next: [
        { to: 2, slot: 0 },
        { to: 3, slot: 1 },
      ],
      saved: [],
    },
    { id: 2, name: "AccumulateGrad", node: "w1", next: [], saved: [] },
    { id: 3, name: "MvBackward0", node: "x1", next: [{ to: 2, slot: 0 }], saved: [] },
  ],
  roots: [{ node: "q", port: null, to: 0 }],
};
const G = (v: number[]) => payload([2], v);
const STEPS: BackwardStep[] = [
  { backward_pass: 0, node: 0, grad_outputs: [payload([], 1)], sent: [{ to: 1, slot: 0, grad: G([1, 2]) }] },
  {
    backward_pass: 0,
    node: 1,
    grad_outputs: [G([1, 2])],
    sent: [
      {
        to: 2,
        slot: 0,
        grad: payload(
          [2, 2],
          [
            [1, 1],
            [1, 1],
          ],
        ),
      },
      { to: 3, slot: 1, grad: G([3, 4]) },
    ],
  },
  {
    backward_pass: 0,
    node: 3,
    grad_outputs: [G([3, 4])],
    sent: [
      {
        to: 2,
        slot: 0,
        grad: payload(
          [2, 2],
          [
            [2, 2],
            [2, 2],
          ],
        ),
      },
    ],
  },
  {
    backward_pass: 0,
    node: 2,
    grad_outputs: [
      payload(
        [2, 2],
        [
          [3, 3],
          [3, 3],
        ],
      ),
    ],
    sent: [],
  },
];
const node = (id: string, op: string, shape: number[], requires_grad = true) => ({
  id,
  op,
  shape,
  dtype: "float32",
  device: "cpu",
  requires_grad,
  is_leaf: op === "parameter" || op === "input",
  grad_fn: null,
  version: 0,
  value: payload(shape, null),
  grad: null,
});
const RUN = {
  nodes: {
    w1: node("w1", "parameter", [2, 2]),
    x: node("x", "input", [2], false),
    x1: node("x1", "matmul", [2]),
    x3: node("x3", "matmul", [2]),
    q: node("q", "norm", []),
  },
  backward_graph: GRAPH,
  backward_steps: STEPS,
} as unknown as EvaluateResponse;
const WIRES: Wire[] = [
  { source: "w1", consumer: "x1", port: "input" },
  { source: "x", consumer: "x1", port: "other" },
  { source: "w1", consumer: "x3", port: "input" },
  { source: "x1", consumer: "x3", port: "other" },
  { source: "x3", consumer: "q", port: "input" },
];
const MATMUL = {
  name: "matmul",
  rule: {
    formulas: {
      input: "\\mathrm{grad\\_out} \\cdot \\mathrm{other}^{\\top}",
      other: "\\mathrm{input}^{\\top} \\cdot \\mathrm{grad\\_out}",
    },
    where: "",
    only: {},
  },
  rule_note: null,
} as unknown as OpInfo;

describe("stepView", () => {
  it("names the autograd node, its op, what arrived and where each gradient went, by port", () => {
    const v = stepView(RUN, WIRES, 1);
    expect(v?.node.name).toBe("MvBackward0");
    expect([v?.owner, v?.op, v?.index, v?.total]).toEqual(["x3", "matmul", 1, 4]);
    expect(v?.incoming[0]?.shape).toEqual([2]);
    expect(v?.sent.map((s) => [s.to.name, s.to.node, s.ports])).toEqual([
      ["AccumulateGrad", "w1", ["input"]],
      ["MvBackward0", "x1", ["other"]],
    ]);
  });

  it("is null past the last step or without recorded steps", () => {
    expect(stepView(RUN, WIRES, 4)).toBeNull();
    expect(stepView({ ...RUN, backward_steps: null }, WIRES, 0)).toBeNull();
  });
});

describe("a shared leaf's .grad, use by use", () => {
  it("gets the first use's share, then the second's, then the sum", () => {
    const first = leafFill(GRAPH, STEPS, 2, 1);
    expect([first.received.map((r) => r.from), first.uses, first.accumulated]).toEqual([["x3"], 2, null]);
    expect(fillText(first)).toBe("w1: 1 of 2 uses have sent their share so far");
    const both = leafFill(GRAPH, STEPS, 2, 2);
    expect(both.received.map((r) => [r.from, r.step])).toEqual([
      ["x3", 1],
      ["x1", 2],
    ]);
    const summed = leafFill(GRAPH, STEPS, 2, 3);
    expect(summed.accumulated?.data?.values).toEqual([
      [3, 3],
      [3, 3],
    ]);
    expect(fillText(summed)).toBe("w1.grad = the sum of its 2 uses' shares (AccumulateGrad ran)");
    expect(accumulateTex(summed)).toBe(
      "\\mathrm{w1}.\\mathrm{grad} \\mathrel{=} \\mathrm{from}\\ \\mathrm{x3} + \\mathrm{from}\\ \\mathrm{x1}",
    );
  });

  it("shows the leaves a step sends to, or accumulates into", () => {
    expect(stepView(RUN, WIRES, 0)?.fills).toEqual([]);
    expect(stepView(RUN, WIRES, 2)?.fills.map((f) => [f.leaf, f.received.length])).toEqual([["w1", 2]]);
    expect(stepView(RUN, WIRES, 3)?.fills.map((f) => f.accumulated !== null)).toEqual([true]);
  });

  it("adds to .grad from the second pass on", () => {
    const twice = [...STEPS, ...STEPS.map((s) => ({ ...s, backward_pass: 1 }))];
    const f = leafFill(GRAPH, twice, 2, 7);
    expect(f.received.map((r) => r.step)).toEqual([5, 6]);
    expect(fillText(f)).toContain("w1.grad +=");
    expect(accumulateTex(f)).toContain("\\mathrel{+=}");
  });
});

describe("the rule with its shapes", () => {
  it("takes each symbol's shape from the run and writes it under the symbol's first use", () => {
    expect(ruleShapes(RUN, WIRES, "x3")).toEqual({
      out: [2],
      grad_out: [2],
      input: [2, 2],
      grad_input: [2, 2],
      other: [2],
      grad_other: [2],
    });
    const [input, other] = ruleLines(MATMUL, RUN, WIRES, "x3") ?? [];
    expect(input.tex).toBe(
      "\\underset{\\scriptstyle 2{\\times}2}{\\mathrm{grad\\_input}} = \\underset{\\scriptstyle 2}{\\mathrm{grad\\_out}} \\cdot \\underset{\\scriptstyle 2}{\\mathrm{other}}^{\\top}",
    );
    expect(other.port).toBe("other");
    expect([input.live, other.live]).toEqual([true, true]);
    expect(ruleLines(MATMUL, RUN, WIRES, "x1")?.map((l) => l.live)).toEqual([true, false]); // x needs no grad
  });

  it("leaves a symbol alone that only starts like another", () => {
    expect(withShapes("\\mathrm{tensors} + \\mathrm{tensor}", { tensor: [3] })).toBe(
      "\\mathrm{tensors} + \\underset{\\scriptstyle 3}{\\mathrm{tensor}}",
    );
    expect(withShapes("\\mathrm{out}", { out: [] })).toBe(
      "\\underset{\\scriptstyle \\text{scalar}}{\\mathrm{out}}",
    );
  });

  it("says when an op states no rule", () => {
    expect(ruleLines({ ...MATMUL, rule: null }, RUN, WIRES, "x3")).toBeNull();
  });
});

describe("moved", () => {
  it("stays within the steps", () => {
    expect([moved(0, 4, "back"), moved(3, 4, "forward"), moved(1, 4, "last"), moved(2, 4, "first")]).toEqual([
      0, 3, 3, 0,
    ]);
    expect(moved(0, 0, "forward")).toBe(0);
  });
});

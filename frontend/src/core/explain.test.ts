import { describe, expect, it } from "vitest";
import type { GradContribution } from "../api/types";
import {
  accumulatedPasses,
  contributionsHeading,
  contributionsNote,
  gradLabel,
  gradModeTitle,
  portName,
  sharedBadge,
  sharedSentence,
  unsharedSentence,
  versionTitle,
} from "./explain";

const w1 = {
  id: "w1",
  uses: [
    { consumer: "x1", port: "input" },
    { consumer: "x3", port: "input" },
  ],
};
const run = (backward_passes: number, grad_output: "sum" | "ones" | null = null) => ({
  output: "q",
  grad_output,
  backward_passes,
});
const share = (consumer: string, port: string): GradContribution => ({ consumer, port, grad: null });

describe("explaining a shared node", () => {
  it("badges it with its number of uses and says its gradient sums them", () => {
    expect(sharedBadge(w1)).toEqual({
      text: "shared ×2",
      title: "w1 feeds 2 ops (x1, x3); its gradient is the sum of both uses",
    });
  });
  it("says 'all N uses' from three uses on", () => {
    const w = { id: "w", uses: [...w1.uses, { consumer: "x5", port: "other" }] };
    expect(sharedBadge(w).text).toBe("shared ×3");
    expect(sharedSentence(w)).toBe("w feeds 3 ops (x1, x3, x5); its gradient is the sum of all 3 uses");
  });
  it("names the ports when one op takes the tensor twice", () => {
    const x = {
      id: "x",
      uses: [
        { consumer: "c", port: "tensors[0]" },
        { consumer: "c", port: "tensors[2]" },
        { consumer: "y", port: "input" },
      ],
    };
    expect(sharedSentence(x)).toBe(
      "x feeds 2 ops through 3 ports (c.tensors[0], c.tensors[2], y.input); its gradient is the sum of all 3 uses",
    );
  });
  it("never claims a sum for a node the server does not list", () => {
    const uses = [
      { consumer: "x1", port: "other" },
      { consumer: "x2", port: "input" },
    ];
    const noGrad = unsharedSentence("x", uses, false, true);
    expect(noGrad).toBe("x feeds 2 ops (x1, x2), but it requires no grad: it has no gradient to sum.");
    const detached = unsharedSentence("h", uses, true, true);
    expect(detached).toMatch(/^h feeds 2 ops \(x1, x2\), but at most one/);
    for (const text of [noGrad, detached]) expect(text).not.toMatch(/is the sum|sums/);
  });
  it("claims nothing while the graph has errors (the server then sends no shared list)", () => {
    const uses = [
      { consumer: "x1", port: "input" },
      { consumer: "x3", port: "input" },
    ];
    const text = "w1 feeds 2 ops (x1, x3); whether its gradient sums them shows once the graph checks out.";
    expect(unsharedSentence("w1", uses, true, false)).toBe(text);
    expect(unsharedSentence("w1", uses, undefined, true)).toBe(text);
  });
  it("writes an edge's handle as the server names its port", () => {
    expect(portName("input")).toBe("input");
    expect(portName("tensors.1")).toBe("tensors[1]");
  });
});

describe("naming the gradient shown", () => {
  it("is d out / d node after one backward pass", () => {
    expect(gradLabel("x1", run(1))).toBe("d q / d x1");
    expect(gradModeTitle(run(1))).toBe("Show each node's gradient, d q / d node");
  });
  it("is the .grad accumulated over N passes, N times the derivative, after N", () => {
    expect(gradLabel("x1", run(2))).toBe("x1.grad accumulated over 2 backward passes (= 2 × d q / d x1)");
    const zeroed = { ...run(3), zero_grad: true };
    expect(gradLabel("x1", zeroed)).toBe(
      "x1.grad after the last of 3 passes, zeroed before each (= d q / d x1)",
    );
    expect(gradModeTitle(zeroed)).toBe(
      "Show each node's .grad after the last of 3 passes, zeroed before each (= d q / d node)",
    );
    expect(accumulatedPasses(zeroed)).toBe(1);
    expect(accumulatedPasses(run(3))).toBe(3);
    expect(gradModeTitle(run(3))).toBe(
      "Show each node's .grad, accumulated over 3 backward passes (= 3 × d q / d node)",
    );
  });
  it("differentiates the sum of a non-scalar loss", () => {
    expect(gradLabel("w", run(1, "sum"))).toBe("d sum(q) / d w");
    expect(gradLabel("w", run(2, "ones"))).toBe(
      "w.grad accumulated over 2 backward passes (= 2 × d sum(q) / d w)",
    );
  });
  it("promises no gradient before a run with a loss", () => {
    expect(gradModeTitle(undefined)).toMatch(/after a run with a loss/);
    expect(gradModeTitle({ ...run(1), output: null })).toMatch(/after a run with a loss/);
  });
});

describe("the contributions panel", () => {
  it("writes the gradient as the sum of its uses' shares", () => {
    expect(contributionsHeading("w1", [share("x1", "input"), share("x3", "input")])).toBe(
      "w1.grad = (via x1) + (via x3)",
    );
    expect(
      contributionsHeading("x", [share("c", "tensors[0]"), share("c", "tensors[2]"), share("y", "input")]),
    ).toBe("x.grad = (via c.tensors[0]) + (via c.tensors[2]) + (via y)");
  });
  it("says the shares accumulate over several passes too", () => {
    expect(contributionsNote("w1", 2, 1)).toBe(
      "w1 is used 2 times; autograd adds the gradient each use sends back.",
    );
    expect(contributionsNote("w1", 2, 2)).toMatch(/accumulated over the 2 backward passes too\.$/);
  });
});

describe("versionTitle", () => {
  it("says how often the tensor was written in place", () => {
    expect(versionTitle(1)).toMatch(
      /^_version 1: this tensor was overwritten in place once after it was made/,
    );
    expect(versionTitle(3)).toMatch(/overwritten in place 3 times/);
  });
});

import { describe, expect, it } from "vitest";
import type { GraphError } from "../api/types";
import { errorSummary, runFailureLine, validationLine } from "./status";

const error = (node: string | null, code: GraphError["code"], message: string): GraphError => ({
  node,
  port: null,
  attribute: null,
  code,
  message,
  autograd: null,
});
const idle = { nodes: 3, validating: false, validationMessage: null, validationErrors: [] };

describe("validationLine", () => {
  it("asks for inputs to connect rather than counting them as errors", () => {
    const missing = [error("a", "missing_input", "connect it"), error("b", "missing_input", "connect it")];
    expect(validationLine({ ...idle, validationErrors: missing })).toEqual({
      text: "2 inputs to connect",
      tone: "todo",
    });
    const shape = [...missing, error("c", "shape", "[2] @ [3]")];
    expect(validationLine({ ...idle, validationErrors: shape })).toEqual({
      text: "1 error: see the marked nodes",
      tone: "bad",
    });
  });

  it("says checking, the server's trouble, or that all is well", () => {
    expect(validationLine({ ...idle, validating: true })?.text).toBe("checking…");
    expect(validationLine({ ...idle, validationMessage: "The server cannot be reached." })?.tone).toBe("bad");
    expect(validationLine(idle)).toEqual({ text: "✓ shapes check out", tone: "good" });
    expect(validationLine({ ...idle, nodes: 0 })).toBeNull();
  });
});

describe("runFailureLine", () => {
  const none = { runMessage: null, runErrors: [], validationErrors: [] };

  it("is gone when no run failed (another run went well, or an edit ended it)", () => {
    expect(runFailureLine(none)).toBeNull();
  });

  it("points at the nodes when the errors are on nodes", () => {
    const runErrors = [error("u", "runtime", "backward pass 2 failed")];
    expect(runFailureLine({ ...none, runMessage: "the graph has 1 error", runErrors })).toBe(
      "The run failed: the marked nodes say why.",
    );
  });

  it("says an error of the whole graph once, and a failure of the request as it is", () => {
    const gone = error(null, "run", "run.output is 'q', which is not a node of this graph.");
    expect(
      runFailureLine({ runMessage: "the graph has 1 error", runErrors: [gone], validationErrors: [gone] }),
    ).toBe("The run failed.");
    const slow = error(null, "limit", "Every run slot stayed busy.");
    expect(runFailureLine({ ...none, runMessage: "busy", runErrors: [slow] })).toBe(
      "The run failed: every run slot stayed busy.",
    );
    expect(runFailureLine({ ...none, runMessage: "The server answered 500." })).toBe(
      "The run failed: the server answered 500.",
    );
  });
});

describe("errorSummary", () => {
  it("keeps the first sentence for the node; the rest is the inspector's", () => {
    const message =
      "input [5, 4] @ other [5]: input's last dimension (4) must equal other's first dimension (5). Transpose one of them or change a shape.";
    expect(errorSummary(message)).toBe(
      "input [5, 4] @ other [5]: input's last dimension (4) must equal other's first dimension (5).",
    );
  });

  it("does not stop at a decimal point or at e.g.", () => {
    expect(errorSummary("values lie between 0.5 and 2. Keep them in [0, 1].")).toBe(
      "values lie between 0.5 and 2.",
    );
    expect(errorSummary("wire grad_outputs (e.g. ones) first. Or sum.")).toBe(
      "wire grad_outputs (e.g. ones) first.",
    );
  });

  it("cuts a long first sentence on a word", () => {
    const long = `${"word ".repeat(40)}end.`;
    const short = errorSummary(long);
    expect(short.endsWith("word…")).toBe(true);
    expect(short.length).toBeLessThanOrEqual(101);
  });
});

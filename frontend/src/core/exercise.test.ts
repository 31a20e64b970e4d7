import { describe, expect, it } from "vitest";
import type { CheckResult, TensorPayload } from "../api/types";
import {
  checkFromPayload,
  checkSummary,
  checksOf,
  MAX_CHECK_ELEMENTS,
  predictOf,
  putCheck,
  removeCheck,
  renameInChecks,
  resultsOf,
  setPredict,
} from "./exercise";
import { emptyGraph, renameNode, toDoc } from "./graph";
import { renderMarkdown } from "./markdown";
import { shareKey } from "./share";

function f32(values: number[], shape: number[]): TensorPayload {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  const b64 = btoa(String.fromCharCode(...bytes));
  const stats = { min: 0, max: 0, mean: 0, std: 0, norm: 0, nan: 0, inf: 0 };
  return {
    shape,
    dtype: "float32",
    numel: values.length,
    stats,
    data: { encoding: "base64", dtype: "float32", b64, values: null },
    truncated: false,
    note: null,
  };
}

const verdict = (node: string, of: "value" | "grad", passed: boolean): CheckResult => ({
  node,
  of,
  passed,
  max_abs_error: passed ? 0 : 1,
  mismatched: passed ? 0 : 1,
  rtol: 1e-4,
  atol: 1e-5,
  message: passed ? "matches" : "differs",
});

describe("an exercise in meta", () => {
  it("takes a run's tensor as a check, float32 numbers kept short and exact", () => {
    const check = checkFromPayload({}, "w1", "grad", f32([0.1, -2.5, 1 / 3, 4], [2, 2]));
    expect(typeof check).toBe("object");
    if (typeof check === "string") return;
    expect(check).toMatchObject({ node: "w1", of: "grad", shape: [2, 2] });
    expect(check.values[0]).toBe(0.100000001); // float32's 0.1, to 9 digits
    expect(Math.fround(check.values[0])).toBe(Math.fround(0.1));
    expect(Math.fround(check.values[2])).toBe(Math.fround(1 / 3));
    expect(check.values[1]).toBe(-2.5);
  });

  it("says why a tensor cannot be a check", () => {
    expect(checkFromPayload({}, "w1", "grad", null)).toMatch(/no gradient in this run/);
    expect(checkFromPayload({}, "x", "value", f32([1, Number.NaN], [2]))).toMatch(/NaN or inf/);
    const big = { ...f32([1], [1]), numel: MAX_CHECK_ELEMENTS + 1, data: null };
    expect(checkFromPayload({}, "h", "value", big)).toMatch(/at most 65,536 in all/);
    const left = { ...f32([1], [1]), data: null };
    expect(checkFromPayload({}, "h", "value", left)).toMatch(/load the whole tensor/);
    // The cap counts the other checks, not the one being replaced.
    const half = new Array(MAX_CHECK_ELEMENTS - 1).fill(0);
    const meta = putCheck({}, { node: "a", of: "value", shape: [half.length], values: half });
    expect(checkFromPayload(meta, "b", "value", f32([1, 2], [2]))).toMatch(/at most/);
    expect(typeof checkFromPayload(meta, "a", "value", f32([1, 2], [2]))).toBe("object");
  });

  it("adds, replaces and removes checks, keeping the rest of meta", () => {
    let meta: Record<string, unknown> = { section: "4.1" };
    meta = putCheck(meta, { node: "q", of: "value", shape: [], values: [1] });
    meta = putCheck(meta, { node: "w1", of: "grad", shape: [1], values: [2] });
    meta = putCheck(meta, { node: "q", of: "value", shape: [], values: [3] });
    expect(checksOf(meta).map((c) => [c.node, c.of, c.values[0]])).toEqual([
      ["w1", "grad", 2],
      ["q", "value", 3],
    ]);
    expect(meta.section).toBe("4.1");
    meta = removeCheck(removeCheck(meta, "q", "value"), "w1", "grad");
    expect(meta).toEqual({ section: "4.1" }); // an exercise asking nothing is no exercise
  });

  it("predict, then reveal is a flag of the exercise", () => {
    const meta = setPredict({}, true);
    expect(predictOf(meta)).toBe(true);
    expect(meta).toEqual({ exercise: { predict: true, checks: [] } });
    expect(predictOf(setPredict(meta, false))).toBe(false);
    expect(setPredict(meta, false)).toEqual({});
    expect(predictOf(undefined)).toBe(false);
  });

  it("follows a renamed node, and travels in the document", () => {
    const graph = {
      ...emptyGraph(),
      nodes: [{ id: "x3", type: "op" as const, position: { x: 0, y: 0 }, data: { op: "matmul", attrs: {} } }],
      meta: putCheck({}, { node: "x3", of: "value", shape: [1], values: [1] }),
    };
    const renamed = renameNode(graph, "x3", "y");
    expect(checksOf(renamed.meta).map((c) => c.node)).toEqual(["y"]);
    expect(renameInChecks(graph.meta, "other", "z")).toBe(graph.meta);
    expect(toDoc(renamed).meta?.exercise?.checks?.[0].node).toBe("y");
  });

  it("sums up the verdicts", () => {
    const checks = [
      { node: "q", of: "value" as const, shape: [], values: [1] },
      { node: "w1", of: "grad" as const, shape: [], values: [1] },
    ];
    expect(checkSummary(checks, null).text).toBe("2 checks: run the graph to see if it matches.");
    const results = [verdict("q", "value", true), verdict("w1", "grad", false)];
    expect(checkSummary(checks, results)).toEqual({ passed: 1, total: 2, text: "1 of 2 checks pass." });
    expect(checkSummary(checks.slice(0, 1), results.slice(0, 1)).text).toBe("The check passes.");
    expect(resultsOf(results, "w1").map((r) => r.passed)).toEqual([false]);
  });
});

describe("the description's Markdown", () => {
  it("renders Markdown and leaves no HTML or script of the author's", () => {
    const html = renderMarkdown(
      "# Task\n**w1** is used `twice`.\n\n- one\n\n<script>alert(1)</script><img src=x onerror=alert(1)> " +
        "[bad](javascript:alert(1)) [ok](https://pytorch.org) ![pic](https://example.org/a.png)",
    );
    expect(html).toContain("<h1>Task</h1>");
    expect(html).toContain("<strong>w1</strong>");
    expect(html).toContain("<code>twice</code>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain('<a href="https://pytorch.org" target="_blank" rel="noopener noreferrer">ok</a>');
    const dom = new DOMParser().parseFromString(html, "text/html");
    expect(dom.querySelectorAll("script, img, iframe, style").length).toBe(0);
    const attrs = [...dom.querySelectorAll("*")].flatMap((e) => e.getAttributeNames());
    expect(attrs.filter((a) => a.startsWith("on"))).toEqual([]);
    expect(html).toContain("&lt;script&gt;");
    expect(html).not.toContain("<img");
    expect(html).not.toContain('href="javascript');
  });
});

describe("share links", () => {
  it("names a link's graph by its fragment", () => {
    expect(shareKey("#g=abc")).toBe(shareKey("#x=1&g=abc"));
    expect(shareKey("#g=abc")).not.toBe(shareKey("#g=abd"));
    expect(shareKey("#nothing")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import type { GraphDoc } from "../api/types";
import { setPredict } from "../core/exercise";
import { defaultRun } from "../core/graph";
import { useGraph } from "./graphStore";
import { isReadOnly } from "./readOnly";
import { gradHidden, useReveal } from "./revealStore";
import { useShare } from "./shareStore";

const doc = (meta: Record<string, unknown>): GraphDoc => ({
  version: 1,
  nodes: [{ id: "x", op: "parameter", attrs: { shape: [3] }, inputs: {} }],
  run: defaultRun(),
  meta,
});

describe("predict, then reveal", () => {
  it("starts hidden when the document asks, reveals a node or all, and hides again", () => {
    useGraph.getState().loadDoc(doc(setPredict({}, true)));
    expect(useReveal.getState().predict).toBe(true);
    expect(gradHidden(useReveal.getState(), "x")).toBe(true);
    useReveal.getState().reveal("x");
    expect(gradHidden(useReveal.getState(), "x")).toBe(false);
    expect(gradHidden(useReveal.getState(), "y")).toBe(true);
    useReveal.getState().revealAll();
    expect(gradHidden(useReveal.getState(), "y")).toBe(false);
    useReveal.getState().hideAll();
    expect(gradHidden(useReveal.getState(), "x")).toBe(true);
    // Turning the document's flag off shows everything; another graph starts afresh.
    useGraph.getState().setMeta(setPredict(useGraph.getState().graph.meta, false));
    expect(gradHidden(useReveal.getState(), "x")).toBe(false);
    useGraph.getState().setMeta(setPredict(useGraph.getState().graph.meta, true));
    useReveal.getState().reveal("x");
    useGraph.getState().loadDoc(doc(setPredict({}, true)));
    expect(gradHidden(useReveal.getState(), "x")).toBe(true);
    useGraph.getState().loadDoc(doc({}));
    expect(useReveal.getState().predict).toBe(false);
  });
});

describe("a shared graph before Make my copy", () => {
  it("refuses every edit through the store, saying why", () => {
    useGraph.getState().loadDoc(doc({}));
    useShare.setState({ viewing: true, original: doc({}), key: "k" });
    expect(isReadOnly()).toBe(true);
    const before = useGraph.getState().graph;
    useGraph.getState().setInfo({ title: "mine" });
    useGraph.getState().setAttr("x", "shape", [4]);
    useGraph.getState().setMeta(setPredict({}, true));
    useGraph.getState().clear();
    expect(useGraph.getState().graph).toBe(before);
    expect(useGraph.getState().notice?.text).toMatch(/read-only: Make my copy/);
    useShare.setState({ viewing: false });
    useGraph.getState().setInfo({ title: "mine" });
    expect(useGraph.getState().graph.title).toBe("mine");
    useShare.setState({ original: null, key: null });
  });
});

describe("revealed gradients", () => {
  it("stay revealed through an Auto-layout, which only refits the view", () => {
    useGraph.getState().loadDoc(doc(setPredict({}, true)));
    useReveal.getState().reveal("x");
    useGraph.getState().layout();
    expect(gradHidden(useReveal.getState(), "x")).toBe(false);
  });
});

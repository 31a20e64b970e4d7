import { describe, expect, it } from "vitest";
import type { EvaluateResponse, GraphDoc } from "../api/types";
import {
  byteLength,
  closeReason,
  encodePart,
  type GraphPart,
  parseFrame,
  type RunPart,
  roomLink,
  roomSocketUrl,
} from "./room";

const runPart = (runBytes: number): RunPart => ({
  part: "run",
  run: { order: ["x"], pad: "é".repeat(runBytes / 2) } as unknown as EvaluateResponse,
  runErrors: [],
  failedBackward: null,
  runLeftOut: false,
});
const graphPart: GraphPart = {
  part: "graph",
  doc: { version: 1, nodes: [], run: {} } as unknown as GraphDoc,
  view: { mode: "grad", backward: true, selected: ["x"], loads: 1 },
  validation: { metas: {}, shared: [], errors: [] },
};

describe("room states", () => {
  it("go whole when they fit; a run part too large goes without the results", () => {
    const small = encodePart(runPart(100), 10_000);
    expect(small && JSON.parse(small).run.order).toEqual(["x"]);
    const big = encodePart(runPart(20_000), 10_000); // "é" is two bytes in UTF-8: counted as bytes
    expect(big).not.toBeNull();
    const lean = JSON.parse(big as string);
    expect(lean.run).toBeNull();
    expect(lean.runLeftOut).toBe(true);
    expect(byteLength(big as string)).toBeLessThanOrEqual(10_000);
    expect(encodePart(graphPart, 10_000)).toBe(JSON.stringify(graphPart));
    expect(encodePart(graphPart, 20)).toBeNull(); // a graph is never cut: the page says it is too large
  });

  it("read frames, and nothing else", () => {
    expect(parseFrame('{"type":"ack","seq":3}')).toEqual({ type: "ack", seq: 3 });
    expect(parseFrame("nope")).toBeNull();
    expect(parseFrame("[1]")).toBeNull();
  });

  it("say why a socket closed, and whether to reconnect", () => {
    expect(closeReason(4408, "").retry).toBe(true); // fell behind: catch up
    expect(closeReason(1006, "").retry).toBe(true); // the network
    expect(closeReason(4404, "there is no room").retry).toBe(false);
    expect(closeReason(1000, "").text).toContain("closed");
  });

  it("make the class's link and the socket's address on the page's own server", () => {
    expect(roomLink("http://10.0.0.5:8000/?x=1#g=abc", "k3x9")).toBe("http://10.0.0.5:8000/?room=k3x9");
    expect(roomSocketUrl("https://dagrad.school/?room=k3x9", "k3x9")).toBe(
      "wss://dagrad.school/api/rooms/k3x9/ws",
    );
  });
});

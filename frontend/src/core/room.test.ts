import { describe, expect, it } from "vitest";
import type { EvaluateResponse, GraphDoc } from "../api/types";
import {
  byteLength,
  closeReason,
  encodeState,
  parseFrame,
  type RoomState,
  roomLink,
  roomSocketUrl,
} from "./room";

const state = (runBytes: number): RoomState => ({
  doc: { version: 1, nodes: [], run: {} } as unknown as GraphDoc,
  view: { mode: "grad", backward: true, selected: ["x"] },
  run: { order: ["x"], pad: "é".repeat(runBytes / 2) } as unknown as EvaluateResponse,
  runErrors: [],
  failedBackward: null,
  runLeftOut: false,
});

describe("room states", () => {
  it("go whole when they fit, and without the run when they would not", () => {
    const small = encodeState(state(100), 10_000);
    expect(small && JSON.parse(small).run.order).toEqual(["x"]);
    const big = encodeState(state(20_000), 10_000); // "é" is two bytes in UTF-8: counted as bytes
    expect(big).not.toBeNull();
    const lean = JSON.parse(big as string);
    expect(lean.run).toBeNull();
    expect(lean.runLeftOut).toBe(true);
    expect(lean.view.selected).toEqual(["x"]);
    expect(byteLength(big as string)).toBeLessThanOrEqual(10_000);
    expect(encodeState(state(100), 50)).toBeNull(); // not even the graph fits
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

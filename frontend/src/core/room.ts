// A presenter room's messages (the server: backend/dagrad/api/routes/rooms.py). The presenter's
// page sends its state; each follower's page shows it as its own. React-free, so it is tested
// on its own.
import type {
  BackwardGraph,
  EvaluateResponse,
  GraphDoc,
  GraphError,
  NodeMeta,
  SharedNode,
} from "../api/types";

export interface RoomView {
  mode: "value" | "grad";
  backward: boolean;
  /** The nodes the presenter has selected: the follower's inspector shows the same one. */
  selected: string[];
  /** How many graphs the presenter's page has loaded: a new one (the next example) is fitted to
   * each follower's view, as it is to the presenter's. */
  loads: number;
}

/** What the page sends, in two parts, each only when it changed: a node dragged on a large net
 * sends the small graph part, not the run's results again to every follower. */
export interface GraphPart {
  part: "graph";
  doc: GraphDoc;
  view: RoomView;
  /** The presenter's validation of the graph: followers show it rather than each asking the
   * server again (thirty students, one validation). */
  validation: {
    metas: Record<string, NodeMeta>;
    shared: SharedNode[];
    errors: GraphError[];
    /** Each node's line of PyTorch (absent from a presenter page older than it). */
    torch?: Record<string, string>;
  };
}

export interface RunPart {
  part: "run";
  /** The last run's answer, or null: not run since the last edit, or left out for size. */
  run: EvaluateResponse | null;
  runErrors: GraphError[];
  failedBackward: BackwardGraph | null;
  /** The run was left out because it would pass the room's size limit: a follower runs the
   * graph itself (the same seed gives the same numbers). */
  runLeftOut: boolean;
}

export type RoomPart = GraphPart | RunPart;

export type RoomFrame =
  | { type: "state"; seq: number; part: string; state: RoomPart }
  | { type: "closed" }
  | { type: "ack"; seq: number }
  | { type: "error"; code: string; message: string };

/** A part as the presenter sends it, within `maxBytes`: a run part too large goes without the
 * results; null when even that does not fit. */
export function encodePart(part: RoomPart, maxBytes: number): string | null {
  const whole = JSON.stringify(part);
  if (byteLength(whole) <= maxBytes) return whole;
  if (part.part !== "run") return null;
  const lean = JSON.stringify({
    ...part,
    run: null,
    failedBackward: null,
    runLeftOut: part.run !== null || part.failedBackward !== null,
  });
  return byteLength(lean) <= maxBytes ? lean : null;
}

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** A frame from the server, or null for anything else. */
export function parseFrame(text: string): RoomFrame | null {
  try {
    const f = JSON.parse(text) as RoomFrame;
    if (f && typeof f === "object" && typeof f.type === "string") return f;
  } catch {
    // not JSON: ignored
  }
  return null;
}

/** Why a room's socket closed, in the user's words, and whether to try again. */
export function closeReason(code: number, reason: string): { text: string; retry: boolean } {
  if (code === 4408) return { text: "fell behind the room: catching up", retry: true };
  if (code === 4404) return { text: reason || "this room is closed", retry: false };
  if (code === 4403 || code === 4401) return { text: reason || "not allowed", retry: false };
  if (code === 4429) return { text: reason || "the room is full", retry: false };
  if (code === 1000) return { text: reason || "the presenter closed the room", retry: false };
  return { text: "connection lost: reconnecting", retry: true };
}

/** The room link a presenter gives the class: this page with ?room=<id>. */
export function roomLink(href: string, id: string): string {
  const url = new URL(href);
  url.hash = "";
  url.search = `?room=${encodeURIComponent(id)}`;
  return url.toString();
}

/** The WebSocket URL of a room, on the page's own server. */
export function roomSocketUrl(href: string, id: string): string {
  const url = new URL(href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `/api/rooms/${encodeURIComponent(id)}/ws`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

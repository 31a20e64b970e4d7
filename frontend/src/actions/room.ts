// Presenter rooms: the teacher's page sends its state on every change (at most every 100 ms, the
// last one always), each follower's page shows it. A socket that drops reconnects with a growing
// delay, and a follower then starts from the room's latest state.
import { api } from "../api/client";
import { toDoc } from "../core/graph";
import {
  closeReason,
  encodePart,
  type GraphPart,
  parseFrame,
  type RunPart,
  roomSocketUrl,
} from "../core/room";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useRoom } from "../store/roomStore";
import { runGraph } from "./run";

const THROTTLE_MS = 100;

let socket: WebSocket | null = null;
let retries = 0;
let unsubscribe: (() => void) | null = null;
let throttle: ReturnType<typeof setTimeout> | undefined;
let lastSent = 0;
let lastText: Record<string, string> = {}; // each part as last sent
let applied = 0; // states shown since following began: the first one fits the view
let loads = -1; // the presenter's loadCount last shown: another graph loaded is fitted too

function graphPart(): GraphPart {
  const { graph } = useGraph.getState();
  const r = useResults.getState();
  const selected = graph.nodes.filter((n) => n.selected).map((n) => n.id);
  const validation = { metas: r.metas, shared: r.shared, errors: r.validationErrors, torch: r.torch };
  return {
    part: "graph",
    doc: toDoc(graph),
    view: { mode: r.mode, backward: r.backward, selected, loads: useGraph.getState().loadCount },
    validation,
  };
}

function runPart(): RunPart {
  const r = useResults.getState();
  const failedBackward = r.failedBackward?.graph ?? null;
  return { part: "run", run: r.run, runErrors: r.runErrors, failedBackward, runLeftOut: false };
}

function hangUp(): void {
  const s = socket;
  socket = null;
  if (s) {
    s.onclose = null;
    s.close();
  }
  unsubscribe?.();
  unsubscribe = null;
  clearTimeout(throttle);
}

function reconnectLater(connect: () => void): void {
  const delay = Math.min(5000, 250 * 2 ** retries++);
  useRoom.setState({ status: "reconnecting" });
  setTimeout(() => {
    if (useRoom.getState().role === "presenting" || useRoom.getState().role === "following") connect();
  }, delay);
}

// --- presenting -----------------------------------------------------------------------------

function send(): void {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  for (const part of [graphPart(), runPart()]) {
    const text = encodePart(part, useRoom.getState().maxBytes);
    if (text === null) {
      useRoom.setState({ message: "The graph is too large to share with the room." });
      continue;
    }
    if (text === lastText[part.part]) continue; // nothing a follower would see changed
    lastText[part.part] = text;
    lastSent = performance.now();
    socket.send(text);
  }
}

function schedule(): void {
  clearTimeout(throttle);
  const wait = Math.max(0, THROTTLE_MS - (performance.now() - lastSent));
  throttle = setTimeout(send, wait);
}

function connectPresenter(): void {
  const { room, key } = useRoom.getState();
  if (!room) return;
  const ws = new WebSocket(roomSocketUrl(location.href, room));
  socket = ws;
  ws.onopen = () => {
    ws.send(JSON.stringify({ role: "present", key }));
    retries = 0;
    lastText = {};
    useRoom.setState({ status: "live" });
    send();
  };
  ws.onmessage = (e) => {
    const f = parseFrame(String(e.data));
    if (f?.type === "error") useRoom.setState({ message: f.message });
  };
  ws.onclose = (e) => {
    if (socket !== ws) return;
    socket = null;
    const why = closeReason(e.code, e.reason);
    if (why.retry) reconnectLater(connectPresenter);
    else stopPresenting(why.text);
  };
}

/** Open a room and present this page in it. With the teacher token asked for, it is given first. */
export async function present(teacherToken?: string): Promise<void> {
  try {
    if (teacherToken !== undefined) await api.teacherLogin(teacherToken);
    const room = await api.createRoom();
    hangUp();
    useRoom.setState({
      role: "presenting",
      room: room.id,
      key: room.key,
      maxBytes: room.max_message_bytes,
      status: "connecting",
      message: null,
    });
    const onChange = () => schedule();
    const a = useGraph.subscribe((s, p) => s.graph !== p.graph && onChange());
    const b = useResults.subscribe(onChange);
    unsubscribe = () => {
      a();
      b();
    };
    connectPresenter();
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (status === 403 || status === 401) useRoom.setState({ role: "asking", message: (e as Error).message });
    else useRoom.setState({ message: (e as Error).message });
  }
}

export function stopPresenting(why: string | null = null): void {
  const { room, key, role } = useRoom.getState();
  hangUp();
  if (role === "presenting" && room && key && why === null) api.closeRoom(room, key).catch(() => {});
  useRoom.setState({ role: "none", room: null, key: null, status: "closed", message: why });
}

// --- following --------------------------------------------------------------------------------

function apply(part: GraphPart | RunPart): void {
  const results = useResults.getState();
  if (part.part === "graph") {
    const fit = applied++ === 0 || part.view.loads !== loads;
    loads = part.view.loads;
    useGraph.getState().followDoc(part.doc, part.view.selected, fit);
    results.setMode(part.view.mode);
    results.setBackward(part.view.backward);
    const v = part.validation;
    results.setValidation(v.metas, v.shared, v.errors, v.torch);
    return;
  }
  useResults.setState({
    run: part.run,
    running: false,
    runErrors: part.runErrors,
    runMessage: null,
    failedBackward: part.failedBackward
      ? { graph: part.failedBackward, order: Object.keys(results.metas) }
      : null,
  });
  if (part.runLeftOut) void runGraph(); // too large to pass on: the same graph, run here
}

function connectFollower(): void {
  const { room } = useRoom.getState();
  if (!room) return;
  const ws = new WebSocket(roomSocketUrl(location.href, room));
  socket = ws;
  ws.onopen = () => {
    ws.send(JSON.stringify({ role: "follow" }));
    retries = 0;
    useRoom.setState({ status: "live", message: null });
  };
  ws.onmessage = (e) => {
    const f = parseFrame(String(e.data));
    if (f?.type === "state" && useRoom.getState().role === "following") apply(f.state);
  };
  ws.onclose = (e) => {
    if (socket !== ws) return;
    socket = null;
    const why = closeReason(e.code, e.reason);
    if (why.retry) {
      useRoom.setState({ message: why.text });
      reconnectLater(connectFollower);
    } else {
      useRoom.setState({ role: "copy", status: "closed", message: why.text });
    }
  };
}

/** Follow room `id`: the page shows the presenter's graph, view and results as they change. */
export function follow(id: string): void {
  hangUp();
  applied = 0;
  useRoom.setState({ role: "following", room: id, key: null, status: "connecting", message: null });
  connectFollower();
}

/** Stop following and carry on alone from what the page shows now. */
export function makeCopy(): void {
  hangUp();
  useRoom.setState({ role: "copy", status: "closed", message: null });
  useGraph.getState().notify("info", "This is your copy now: edit it as you like, or follow the room again.");
}

export function followAgain(): void {
  const { room } = useRoom.getState();
  if (room) follow(room);
}

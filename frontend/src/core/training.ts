// Training, React-free: the graph's `train` section and the form that edits it, the messages of
// the WebSocket /api/train/ws folded into what the page shows, the loss curve's points thinned
// for drawing, and the decision boundary as an image. The socket itself is passed in (a browser
// WebSocket, or a fake one in the tests), so a whole session runs without a server.
import type { EvaluateResponse, GraphDoc, TensorPayload } from "../api/types";
import { parameterValues } from "./kernels";

export interface SgdOptimizer {
  name: "sgd";
  lr: number;
  momentum: number;
  dampening: number;
  weight_decay: number;
  nesterov: boolean;
}

export interface AdamOptimizer {
  name: "adam" | "adamw";
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
}

export type Optimizer = SgdOptimizer | AdamOptimizer;
export type OptimizerName = Optimizer["name"];

export const DATASETS = [
  "circle",
  "xor",
  "blobs",
  "spirals",
  "moons",
  "sine",
  "polynomial",
  "digits",
] as const;
export type DatasetName = (typeof DATASETS)[number];

/** The dataset; a field left out takes the server's default for that dataset (dagrad.data). */
export interface DatasetSpec {
  name: DatasetName;
  samples?: number;
  noise?: number;
  test_fraction?: number;
  seed?: number;
  classes?: number;
  degree?: number;
}

/** The dataset's fields the form edits, each left out when its box is empty. */
export const DATASET_FIELDS = ["samples", "noise", "test_fraction", "seed", "classes", "degree"] as const;

export interface TrainData {
  dataset: DatasetSpec;
  features: string;
  labels: string;
  batch_size: number;
  shuffle: boolean;
}

/** The graph's optional `train` section, as the server reads it (docs/graph-format.md). */
export interface TrainSection {
  optimizer: Optimizer;
  steps: number;
  parameters: string[] | null;
  zero_grad: boolean;
  seed: number | null;
  data: TrainData | null;
  predict: string | null;
  snapshot_every: number;
}

export const defaultTrain = (): TrainSection => ({
  optimizer: { name: "sgd", lr: 0.01, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false },
  steps: 100,
  parameters: null,
  zero_grad: true,
  seed: 0,
  data: null,
  predict: null,
  snapshot_every: 10,
});

/** Every field of the optimiser, torch.optim's defaults where a document leaves one out. */
export function fullOptimizer(o: Partial<Optimizer> & { name: OptimizerName }): Optimizer {
  const lr = o.lr ?? 0.01;
  if (o.name === "sgd") {
    const g = o as Partial<SgdOptimizer>;
    return {
      name: "sgd",
      lr,
      momentum: g.momentum ?? 0,
      dampening: g.dampening ?? 0,
      weight_decay: g.weight_decay ?? 0,
      nesterov: g.nesterov ?? false,
    };
  }
  const a = o as Partial<AdamOptimizer>;
  return {
    name: o.name,
    lr,
    betas: a.betas ?? [0.9, 0.999],
    eps: a.eps ?? 1e-8,
    weight_decay: a.weight_decay ?? (o.name === "adamw" ? 0.01 : 0), // AdamW's default decay, as torch's
  };
}

/** Switch the optimiser, keeping what SGD and Adam share (lr, weight_decay). */
export function withOptimizer(opt: Optimizer, name: OptimizerName): Optimizer {
  if (name === opt.name) return opt;
  const { lr, weight_decay } = opt;
  if (name === "sgd") return { name, lr, momentum: 0, dampening: 0, weight_decay, nesterov: false };
  if (opt.name === "sgd") return { name, lr, betas: [0.9, 0.999], eps: 1e-8, weight_decay };
  return { ...opt, name };
}

// ---- the form: every field as typed, checked before a start is sent ----

/** The Train panel's fields as the student types them (strings, so a half-typed number stays). */
export type TrainForm = Record<string, string | boolean>;

const num = (v: number | null | undefined) => (v === null || v === undefined ? "" : String(v));

export function toForm(t: TrainSection): TrainForm {
  const o = fullOptimizer(t.optimizer);
  const d = t.data;
  const ds = d?.dataset;
  return {
    optimizer: o.name,
    lr: num(o.lr),
    weight_decay: num(o.weight_decay),
    momentum: o.name === "sgd" ? num(o.momentum) : "0",
    dampening: o.name === "sgd" ? num(o.dampening) : "0",
    nesterov: o.name === "sgd" ? o.nesterov : false,
    beta1: o.name === "sgd" ? "0.9" : num(o.betas[0]),
    beta2: o.name === "sgd" ? "0.999" : num(o.betas[1]),
    eps: o.name === "sgd" ? "1e-8" : num(o.eps),
    // A document may leave out what has a default (the gallery's do): the server's defaults.
    steps: num(t.steps ?? 100),
    zero_grad: t.zero_grad ?? true,
    seed: num(t.seed),
    snapshot_every: num(t.snapshot_every ?? 10),
    dataset: ds ? ds.name : "",
    features: d?.features ?? "",
    labels: d?.labels ?? "",
    batch_size: num(d?.batch_size ?? 32),
    shuffle: d?.shuffle ?? true,
    // Empty: the dataset's own default.
    samples: num(ds?.samples),
    noise: num(ds?.noise),
    test_fraction: num(ds?.test_fraction),
    data_seed: num(ds?.seed),
    classes: num(ds?.classes),
    degree: num(ds?.degree),
  };
}

interface Rule {
  int?: boolean;
  min?: number;
  /** The bound itself is refused (lr > 0, not ≥ 0). */
  above?: boolean;
  max?: number;
  optional?: boolean;
}

const RULES: Record<string, Rule> = {
  lr: { min: 0, above: true },
  weight_decay: { min: 0 },
  momentum: { min: 0 },
  dampening: { min: 0 },
  beta1: { min: 0, max: 1 },
  beta2: { min: 0, max: 1 },
  eps: { min: 0, above: true },
  steps: { int: true, min: 1 },
  seed: { int: true, min: 0, optional: true },
  snapshot_every: { int: true, min: 1 },
  batch_size: { int: true, min: 1 },
  samples: { int: true, min: 2, optional: true },
  noise: { min: 0, optional: true },
  test_fraction: { min: 0, max: 1, optional: true },
  data_seed: { int: true, min: 0, optional: true },
  classes: { int: true, min: 2, optional: true },
  degree: { int: true, min: 1, optional: true },
};

function readNumber(field: string, raw: string, errors: Record<string, string>): number | null {
  const rule = RULES[field] ?? {};
  const text = raw.trim();
  if (!text) {
    if (!rule.optional) errors[field] = "a number is needed here";
    return null;
  }
  const v = Number(text);
  if (!Number.isFinite(v)) errors[field] = `"${text}" is not a number`;
  else if (rule.int && !Number.isInteger(v)) errors[field] = "a whole number is needed here";
  else if (rule.min !== undefined && (rule.above ? v <= rule.min : v < rule.min))
    errors[field] = `must be ${rule.above ? "above" : "at least"} ${rule.min}`;
  else if (rule.max !== undefined && v > rule.max) errors[field] = `must be at most ${rule.max}`;
  return v;
}

/** The section the form says, or each field's complaint. `base` keeps what the form does not
 * edit (the parameters list, predict). */
export function fromForm(
  form: TrainForm,
  base: TrainSection,
): { section: TrainSection; errors: null } | { section: null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const n = (f: string) => readNumber(f, String(form[f] ?? ""), errors) ?? 0;
  const name = String(form.optimizer) as OptimizerName;
  const optimizer: Optimizer =
    name === "sgd"
      ? {
          name,
          lr: n("lr"),
          momentum: n("momentum"),
          dampening: n("dampening"),
          weight_decay: n("weight_decay"),
          nesterov: Boolean(form.nesterov),
        }
      : {
          name,
          lr: n("lr"),
          betas: [n("beta1"), n("beta2")],
          eps: n("eps"),
          weight_decay: n("weight_decay"),
        };
  if (
    optimizer.name === "sgd" &&
    optimizer.nesterov &&
    (optimizer.momentum <= 0 || optimizer.dampening !== 0)
  )
    errors.nesterov = "Nesterov needs a momentum above 0 and a dampening of 0";
  const seed = readNumber("seed", String(form.seed ?? ""), errors);
  let data: TrainData | null = null;
  const dataset = String(form.dataset ?? "");
  if (dataset) {
    if (!form.features) errors.features = "choose the input node that takes the features";
    if (!form.labels) errors.labels = "choose the input node that takes the labels";
    const spec: DatasetSpec = { name: dataset as DatasetName };
    for (const f of DATASET_FIELDS) {
      const field = f === "seed" ? "data_seed" : f;
      const v = readNumber(field, String(form[field] ?? ""), errors);
      if (v !== null) spec[f] = v;
    }
    data = {
      dataset: spec,
      features: String(form.features),
      labels: String(form.labels),
      batch_size: n("batch_size"),
      shuffle: Boolean(form.shuffle),
    };
  }
  const section: TrainSection = {
    ...base,
    optimizer,
    steps: n("steps"),
    zero_grad: Boolean(form.zero_grad),
    seed,
    data,
    snapshot_every: n("snapshot_every"),
  };
  return Object.keys(errors).length ? { section: null, errors } : { section, errors: null };
}

// ---- the protocol ----

export interface ProgressPoint {
  step: number;
  loss: number;
  test_loss: number | null;
  accuracy: number | null;
  test_accuracy: number | null;
}

export interface TrainDataPoints {
  train_x: number[][];
  train_y: number[];
  test_x: number[][];
  test_y: number[];
}

export interface Boundary {
  x: [number, number];
  y: [number, number];
  size: [number, number];
  label: number[];
  confidence: number[];
}

export interface Curve {
  x: number[];
  y: number[];
}

export interface ErrorBody {
  detail?: string;
  errors?: { node: string | null; port?: string | null; attribute?: string | null; message: string }[];
}

export type ServerMessage =
  | {
      type: "started";
      steps: number;
      parameters: string[];
      task: "classification" | "regression" | null;
      data: TrainDataPoints | null;
    }
  | { type: "progress"; points: ProgressPoint[] }
  | {
      type: "snapshot";
      step: number;
      result: EvaluateResponse;
      boundary: Boundary | null;
      curve: Curve | null;
    }
  | { type: "paused"; step: number }
  | { type: "done"; step: number; reason: "finished" | "stopped" | "time_limit"; graph: GraphDoc }
  | { type: "error"; status: number; body: ErrorBody };

export type ClientMessage =
  | { type: "start"; graph: GraphDoc }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "step" }
  | { type: "stop" };

export type Phase = "idle" | "connecting" | "running" | "paused" | "done" | "error";

/** What the page shows of a session: everything but the snapshot's results (those go to the
 * results store, where every preview reads them). */
export interface TrainView {
  phase: Phase;
  steps: number;
  /** The last step the server reported. */
  step: number;
  parameters: string[];
  task: "classification" | "regression" | null;
  data: TrainDataPoints | null;
  points: ProgressPoint[];
  snapshotStep: number | null;
  /** Each trained parameter's value before the first step (the step-0 snapshot). */
  initial: Record<string, TensorPayload> | null;
  boundary: Boundary | null;
  curve: Curve | null;
  reason: "finished" | "stopped" | "time_limit" | "disconnected" | null;
  error: string | null;
}

export const idleView = (): TrainView => ({
  phase: "idle",
  steps: 0,
  step: 0,
  parameters: [],
  task: null,
  data: null,
  points: [],
  snapshotStep: null,
  initial: null,
  boundary: null,
  curve: null,
  reason: null,
  error: null,
});

/** An error body in one line: the first located error, named by its node, port or attribute. */
export function errorLine(status: number, body: ErrorBody): string {
  const e = body.errors?.[0];
  if (e) {
    const where = [e.node, e.port ?? e.attribute].filter(Boolean).join(".");
    return where ? `${where}: ${e.message}` : e.message;
  }
  return body.detail ?? `The server refused the training (${status}).`;
}

/** Fold one server message into the view. */
export function reduce(view: TrainView, msg: ServerMessage): TrainView {
  switch (msg.type) {
    case "started":
      return {
        ...idleView(),
        phase: "running",
        steps: msg.steps,
        parameters: msg.parameters,
        task: msg.task,
        data: msg.data,
      };
    case "progress": {
      if (!msg.points.length) return view;
      const last = msg.points[msg.points.length - 1];
      return { ...view, points: [...view.points, ...msg.points], step: Math.max(view.step, last.step) };
    }
    case "snapshot":
      return {
        ...view,
        snapshotStep: msg.step,
        initial: msg.step === 0 ? parameterValues(msg.result, view.parameters) : view.initial,
        step: Math.max(view.step, msg.step),
        boundary: msg.boundary ?? view.boundary,
        curve: msg.curve ?? view.curve,
      };
    case "paused":
      return { ...view, phase: "paused", step: msg.step };
    case "done":
      return { ...view, phase: "done", step: msg.step, reason: msg.reason };
    case "error":
      return { ...view, phase: "error", error: errorLine(msg.status, msg.body) };
  }
}

/** The status line: where the run is, and the last loss. */
export function statusLine(view: TrainView): string {
  // The last step's loss and accuracy are its batch's; the held-out split's, from the last point
  // that measured them, follow in brackets: what the model does on data it did not train on.
  const last = view.points[view.points.length - 1];
  let tested: ProgressPoint | undefined;
  for (let i = view.points.length - 1; i >= 0 && !tested; i--)
    if (view.points[i].test_loss !== null) tested = view.points[i];
  const test = (v: number | null | undefined, f: (v: number) => string) =>
    v !== null && v !== undefined ? ` (test ${f(v)})` : "";
  const loss = last ? ` · batch loss ${fmt(last.loss)}${test(tested?.test_loss, fmt)}` : "";
  const acc =
    last?.accuracy !== null && last?.accuracy !== undefined
      ? ` · accuracy ${pct(last.accuracy)}${test(tested?.test_accuracy, pct)}`
      : "";
  const at = `step ${view.step} of ${view.steps}${loss}${acc}`;
  switch (view.phase) {
    case "idle":
      return "Not trained yet: press ▶ Train.";
    case "connecting":
      return "Starting…";
    case "running":
      return `Training: ${at}`;
    case "paused":
      return `Paused at ${at}`;
    case "done":
      return view.reason === "finished"
        ? `Finished: ${at}`
        : view.reason === "time_limit"
          ? `Stopped by the server's time limit at ${at}`
          : view.reason === "disconnected"
            ? `The connection was lost at ${at}`
            : `Stopped at ${at}`;
    case "error":
      return `Refused: ${view.error}`;
  }
}

export const fmt = (v: number) =>
  Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** At most `max` points for the chart: the first and the last always, evenly spaced between;
 * the whole history stays in the store. */
export function decimate<T>(points: T[], max: number): T[] {
  if (points.length <= max || max < 2) return points;
  const out: T[] = [];
  const stride = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * stride)]);
  return out;
}

/** uPlot's columns: steps, train loss, test loss, accuracy, test accuracy (null where absent). */
export function chartColumns(points: ProgressPoint[], max = 1000): (number | null)[][] {
  const shown = decimate(points, max);
  return [
    shown.map((p) => p.step),
    shown.map((p) => p.loss),
    shown.map((p) => p.test_loss),
    shown.map((p) => p.accuracy),
    shown.map((p) => p.test_accuracy),
  ];
}

/** The class colours, on the boundary and on the points (as TensorFlow Playground: orange, blue, …). */
export const CLASS_COLORS: [number, number, number][] = [
  [245, 147, 34],
  [8, 119, 189],
  [76, 175, 80],
  [156, 39, 176],
  [229, 57, 53],
  [0, 150, 136],
  [121, 85, 72],
  [96, 125, 139],
  [255, 193, 7],
  [63, 81, 181],
];

export const classColor = (k: number): [number, number, number] =>
  CLASS_COLORS[((k % CLASS_COLORS.length) + CLASS_COLORS.length) % CLASS_COLORS.length];

/** The boundary as RGBA pixels, W wide and H high, top row the highest y: each cell its class's
 * colour, more opaque the surer the model is (alpha 0.15 at chance, 0.75 when certain). The
 * server's grid runs row by row from y's low end, so rows are flipped for the canvas. */
export function boundaryPixels(b: Boundary): Uint8ClampedArray {
  const [h, w] = b.size;
  const px = new Uint8ClampedArray(w * h * 4);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const i = r * w + c;
      const at = ((h - 1 - r) * w + c) * 4;
      const [red, green, blue] = classColor(b.label[i]);
      const conf = Math.min(1, Math.max(0, b.confidence[i]));
      px[at] = red;
      px[at + 1] = green;
      px[at + 2] = blue;
      px[at + 3] = Math.round(255 * (0.15 + 0.6 * conf));
    }
  }
  return px;
}

// ---- the client: one session over a socket ----

/** What TrainClient needs of a WebSocket; the tests pass a fake one. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: (() => void) | null;
  onmessage: ((e: { data: string }) => void) | null;
  onclose: (() => void) | null;
  onerror: (() => void) | null;
}

export interface TrainHooks {
  /** The view changed. */
  onView(view: TrainView): void;
  /** A snapshot's evaluate result: every preview shows step `step`'s state. */
  onResult(result: EvaluateResponse, step: number): void;
  /** The session ended with the trained graph. */
  onTrained(graph: GraphDoc, reason: string): void;
}

const OPEN = 1;

/** One training session: opens the socket, sends start once it is open, folds what comes back.
 * Closing it (stop, leaving the panel, the page going) ends the server's work: the server stops
 * a training whose socket is gone. */
export class TrainClient {
  view: TrainView = idleView();
  private socket: SocketLike | null = null;
  private queue: ClientMessage[] = [];

  constructor(
    private readonly open: () => SocketLike,
    private readonly hooks: TrainHooks,
  ) {}

  get active(): boolean {
    return this.view.phase === "connecting" || this.view.phase === "running" || this.view.phase === "paused";
  }

  /** A new run; `paused`: it takes one step and waits (Step pressed before Play). */
  start(graph: GraphDoc, paused = false): void {
    this.close();
    this.set({ ...idleView(), phase: "connecting" });
    const socket = this.open();
    this.socket = socket;
    this.queue = paused ? [{ type: "start", graph }, { type: "step" }] : [{ type: "start", graph }];
    socket.onopen = () => this.flush();
    socket.onmessage = (e) => this.receive(e.data);
    socket.onerror = () => undefined; // onclose follows and says so
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.view.phase === "connecting")
        this.set({ ...this.view, phase: "error", error: "the server did not open the training connection" });
      else if (this.active) this.set({ ...this.view, phase: "done", reason: "disconnected" });
    };
    if (socket.readyState === OPEN) this.flush();
  }

  pause(): void {
    if (this.view.phase === "running") this.send({ type: "pause" });
  }
  resume(): void {
    if (this.view.phase === "paused") {
      this.send({ type: "resume" });
      this.set({ ...this.view, phase: "running" });
    }
  }
  /** One step, then paused (the server answers with `paused`). */
  step(): void {
    if (this.view.phase === "paused" || this.view.phase === "running") this.send({ type: "step" });
  }
  stop(): void {
    if (this.active) this.send({ type: "stop" });
  }

  /** Drop the socket: the server ends the training. */
  close(): void {
    const s = this.socket;
    this.socket = null;
    this.queue = [];
    if (s) {
      s.onclose = null;
      s.onmessage = null;
      s.close();
    }
    if (this.active) this.set({ ...this.view, phase: "done", reason: "stopped" });
  }

  reset(): void {
    this.close();
    this.set(idleView());
  }

  private send(msg: ClientMessage): void {
    this.queue.push(msg);
    this.flush();
  }

  private flush(): void {
    const s = this.socket;
    if (!s || s.readyState !== OPEN) return;
    for (const m of this.queue.splice(0)) s.send(JSON.stringify(m));
  }

  private receive(data: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    this.set(reduce(this.view, msg));
    if (msg.type === "snapshot") this.hooks.onResult(msg.result, msg.step);
    else if (msg.type === "done") {
      this.hooks.onTrained(msg.graph, msg.reason);
      this.close();
    } else if (msg.type === "error") this.close();
  }

  private set(view: TrainView): void {
    this.view = view;
    this.hooks.onView(view);
  }
}

/** The WebSocket's address beside the page (ws: or wss: as the page is served). */
export function trainSocketUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/api/train/ws`;
}

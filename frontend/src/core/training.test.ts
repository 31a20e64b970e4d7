import { describe, expect, it } from "vitest";
import type { EvaluateResponse, GraphDoc } from "../api/types";
import {
  type Boundary,
  boundaryPixels,
  chartColumns,
  classColor,
  decimate,
  defaultTrain,
  fromForm,
  idleView,
  reduce,
  type SocketLike,
  statusLine,
  TrainClient,
  type TrainSection,
  type TrainView,
  toForm,
  trainSocketUrl,
  withOptimizer,
} from "./training";

/** A socket the test opens and answers by hand; it records what the client sent. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  send(data: string) {
    if (this.readyState !== 1) throw new Error("sent before open");
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  openNow() {
    this.readyState = 1;
    this.onopen?.();
  }
  answer(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

const graph = { version: 1, nodes: [], run: {} } as unknown as GraphDoc;
const result = (tag: string) => ({ tag }) as unknown as EvaluateResponse;
const point = (step: number, loss: number, accuracy: number | null = null) => ({
  step,
  loss,
  test_loss: loss + 0.1,
  accuracy,
  test_accuracy: null,
});

function session() {
  const sockets: FakeSocket[] = [];
  const views: TrainView[] = [];
  const results: [unknown, number][] = [];
  const trained: [GraphDoc, string][] = [];
  const client = new TrainClient(
    () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    {
      onView: (v) => views.push(v),
      onResult: (r, step) => results.push([r, step]),
      onTrained: (g, reason) => trained.push([g, reason]),
    },
  );
  return { client, sockets, views, results, trained };
}

describe("TrainClient over a fake socket", () => {
  it("drives a whole session: start, progress, snapshot, pause, step, resume, stop", () => {
    const { client, sockets, results, trained } = session();
    client.start(graph);
    expect(client.view.phase).toBe("connecting");
    const s = sockets[0];
    expect(s.sent).toEqual([]); // nothing before the socket opens
    s.openNow();
    expect(s.sent).toEqual([{ type: "start", graph }]);

    s.answer({ type: "started", steps: 50, parameters: ["w"], task: "classification", data: null });
    expect(client.view.phase).toBe("running");
    expect(client.view.steps).toBe(50);
    s.answer({ type: "progress", points: [point(1, 0.9), point(2, 0.8, 0.5)] });
    expect(client.view.points.map((p) => p.loss)).toEqual([0.9, 0.8]);
    // the batch's figures, the held-out split's (the last point that measured them) in brackets
    expect(statusLine(client.view)).toBe(
      "Training: step 2 of 50 · batch loss 0.8000 (test 0.9000) · accuracy 50.0%",
    );

    const boundary: Boundary = { x: [-1, 1], y: [-1, 1], size: [1, 2], label: [0, 1], confidence: [1, 0] };
    s.answer({ type: "snapshot", step: 2, result: result("two"), boundary, curve: null });
    expect(results).toEqual([[{ tag: "two" }, 2]]);
    expect(client.view.boundary).toEqual(boundary);
    expect(client.view.snapshotStep).toBe(2);

    client.pause();
    s.answer({ type: "paused", step: 3 });
    expect(client.view.phase).toBe("paused");
    expect(statusLine(client.view)).toMatch(/^Paused at step 3 of 50/);
    client.step();
    s.answer({ type: "progress", points: [point(4, 0.7)] });
    s.answer({ type: "paused", step: 4 });
    client.resume();
    expect(client.view.phase).toBe("running");
    client.stop();
    expect(s.sent.map((m) => m.type)).toEqual(["start", "pause", "step", "resume", "stop"]);

    const done = { ...graph, title: "trained" };
    s.answer({ type: "done", step: 5, reason: "stopped", graph: done });
    expect(trained).toEqual([[done, "stopped"]]);
    expect(client.view.phase).toBe("done");
    expect(client.view.points).toHaveLength(3); // the curve stays after the end
    expect(s.closed).toBe(true);
    expect(statusLine(client.view)).toMatch(/^Stopped at step 5 of 50/);
  });

  it("says the server's refusal, located, and closes", () => {
    const { client, sockets } = session();
    client.start(graph);
    sockets[0].openNow();
    sockets[0].answer({
      type: "error",
      status: 422,
      body: {
        detail: "bad",
        errors: [{ node: null, attribute: "train.optimizer.lr", message: "lr must be > 0" }],
      },
    });
    expect(client.view.phase).toBe("error");
    expect(statusLine(client.view)).toBe("Refused: train.optimizer.lr: lr must be > 0");
    expect(sockets[0].closed).toBe(true);
  });

  it("ends the session when the connection drops, and closing ends the server's work", () => {
    const { client, sockets } = session();
    client.start(graph);
    sockets[0].openNow();
    sockets[0].answer({ type: "started", steps: 5, parameters: [], task: null, data: null });
    sockets[0].drop();
    expect(client.view.phase).toBe("done");
    expect(client.view.reason).toBe("disconnected");

    client.start(graph); // a second run opens a new socket
    sockets[1].openNow();
    client.close(); // the panel closed: the socket goes, and the server stops
    expect(sockets[1].closed).toBe(true);
    expect(client.active).toBe(false);
    client.reset();
    expect(client.view).toEqual(idleView());
  });

  it("says so when the socket closes before the run starts", () => {
    const { client, sockets } = session();
    client.start(graph);
    sockets[0].drop();
    expect(statusLine(client.view)).toBe("Refused: the server did not open the training connection");
  });

  it("ignores a message it cannot read and controls that do not apply", () => {
    const { client, sockets } = session();
    client.pause(); // nothing to pause: no socket opened
    expect(sockets).toHaveLength(0);
    client.start(graph);
    sockets[0].openNow();
    sockets[0].onmessage?.({ data: "not json" });
    expect(client.view.phase).toBe("connecting");
    client.resume(); // not paused
    expect(sockets[0].sent.map((m) => m.type)).toEqual(["start"]);
  });
});

describe("the status line", () => {
  it("says the last batch's figures and, in brackets, the last measured test figures", () => {
    let view = reduce(idleView(), {
      type: "started",
      steps: 50,
      parameters: [],
      task: "classification",
      data: null,
    });
    view = reduce(view, { type: "progress", points: [point(1, 0.9, 0.5)] });
    expect(statusLine(view)).toBe(
      "Training: step 1 of 50 · batch loss 0.9000 (test 1.0000) · accuracy 50.0%",
    );
    view = reduce(view, { type: "progress", points: [{ ...point(2, 0.75, 0.6), test_loss: null }] });
    expect(statusLine(view)).toBe(
      "Training: step 2 of 50 · batch loss 0.7500 (test 1.0000) · accuracy 60.0%",
    );
    view = reduce(view, { type: "progress", points: [{ ...point(3, 0.7, 0.7), test_accuracy: 0.55 }] });
    expect(statusLine(view)).toBe(
      "Training: step 3 of 50 · batch loss 0.7000 (test 0.8000) · accuracy 70.0% (test 55.0%)",
    );
    const regression = reduce(idleView(), {
      type: "started",
      steps: 9,
      parameters: [],
      task: "regression",
      data: null,
    });
    const fitted = reduce(regression, { type: "progress", points: [{ ...point(1, 0.25), test_loss: null }] });
    expect(statusLine(fitted)).toBe("Training: step 1 of 9 · batch loss 0.2500");
  });
});

describe("the form and the train section", () => {
  it("round-trips a section through the form", () => {
    const t = defaultTrain();
    const back = fromForm(toForm(t), t);
    expect(back.section).toEqual(t);
    const adam = { ...t, optimizer: withOptimizer(t.optimizer, "adam") };
    expect(adam.optimizer).toEqual({
      name: "adam",
      lr: 0.01,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 0,
    });
    expect(fromForm(toForm(adam), adam).section).toEqual(adam);
    expect(withOptimizer(adam.optimizer, "sgd").name).toBe("sgd");
  });

  it("binds a dataset to the input nodes", () => {
    const form = {
      ...toForm(defaultTrain()),
      dataset: "moons",
      features: "x",
      labels: "y",
      batch_size: "16",
      noise: "0.2",
      samples: "300",
    };
    const { section } = fromForm(form, defaultTrain());
    expect(section?.data).toEqual({
      dataset: { name: "moons", samples: 300, noise: 0.2 }, // the boxes left empty: the dataset's defaults
      features: "x",
      labels: "y",
      batch_size: 16,
      shuffle: true,
    });
  });

  it("reads a section that leaves out its defaults, as the gallery's do", () => {
    const partial = {
      optimizer: { name: "adamw", lr: 0.01 },
      steps: 300,
      data: { dataset: { name: "digits", test_fraction: 0.2 }, features: "x", labels: "y", batch_size: 64 },
      predict: "logits",
    } as unknown as TrainSection;
    const form = toForm(partial);
    expect(form).toMatchObject({
      weight_decay: "0.01",
      beta2: "0.999",
      snapshot_every: "10",
      zero_grad: true,
    });
    expect(form.samples).toBe(""); // the dataset's own default
    const { section } = fromForm(form, partial);
    expect(section?.optimizer).toEqual({
      name: "adamw",
      lr: 0.01,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 0.01,
    });
    expect(section?.data?.dataset).toEqual({ name: "digits", test_fraction: 0.2 });
    expect(section?.predict).toBe("logits");
  });

  it("names each field that would be refused, and what would do", () => {
    const form = { ...toForm(defaultTrain()), lr: "0", steps: "2.5", seed: "", dataset: "xor", labels: "" };
    const { errors } = fromForm(form, defaultTrain());
    expect(errors).toEqual({
      lr: "must be above 0",
      steps: "a whole number is needed here",
      features: "choose the input node that takes the features",
      labels: "choose the input node that takes the labels",
    });
    expect(fromForm({ ...toForm(defaultTrain()), lr: "abc" }, defaultTrain()).errors?.lr).toBe(
      '"abc" is not a number',
    );
    expect(fromForm({ ...toForm(defaultTrain()), nesterov: true }, defaultTrain()).errors?.nesterov).toMatch(
      /momentum above 0/,
    );
    expect(fromForm({ ...toForm(defaultTrain()), seed: "" }, defaultTrain()).section?.seed).toBeNull();
  });
});

describe("drawing", () => {
  it("thins the curve to its first, last and evenly spaced points", () => {
    const pts = Array.from({ length: 101 }, (_, i) => i);
    expect(decimate(pts, 5)).toEqual([0, 25, 50, 75, 100]);
    expect(decimate(pts, 200)).toBe(pts);
    const cols = chartColumns([point(1, 2), point(2, 1, 0.5)]);
    expect(cols).toEqual([
      [1, 2],
      [2, 1],
      [2.1, 1.1],
      [null, 0.5],
      [null, null],
    ]);
  });

  it("paints each cell its class colour, opaque as the model is sure, highest y on top", () => {
    // 2 rows x 1 column: row 0 is y's low end, so it lands at the bottom of the image.
    const px = boundaryPixels({ x: [0, 1], y: [0, 1], size: [2, 1], label: [0, 1], confidence: [1, 0] });
    expect(Array.from(px.slice(0, 4))).toEqual([...classColor(1), Math.round(255 * 0.15)]);
    expect(Array.from(px.slice(4, 8))).toEqual([...classColor(0), Math.round(255 * 0.75)]);
  });

  it("reduces a snapshot without a boundary to the last one", () => {
    const b: Boundary = { x: [0, 1], y: [0, 1], size: [1, 1], label: [0], confidence: [1] };
    let v = reduce(idleView(), { type: "snapshot", step: 1, result: result("a"), boundary: b, curve: null });
    v = reduce(v, { type: "snapshot", step: 2, result: result("b"), boundary: null, curve: null });
    expect(v.boundary).toBe(b);
    expect(v.snapshotStep).toBe(2);
  });

  it("opens the socket beside the page", () => {
    expect(trainSocketUrl({ protocol: "http:", host: "localhost:8640" })).toBe(
      "ws://localhost:8640/api/train/ws",
    );
    expect(trainSocketUrl({ protocol: "https:", host: "x.org" })).toBe("wss://x.org/api/train/ws");
  });
});

describe("Step before Play", () => {
  it("starts a run that takes one step and waits", () => {
    const { client, sockets } = session();
    client.start(graph, true);
    sockets[0].openNow();
    expect(sockets[0].sent).toEqual([{ type: "start", graph }, { type: "step" }]);
  });
});

import { describe, expect, it, vi } from "vitest";
import type { EvaluateResponse, GraphDoc } from "../api/types";
import type { SocketLike } from "../core/training";

// The trained graph is run again for the explorer views: here that run is only counted.
const runs = vi.hoisted(() => ({ count: 0 }));
vi.mock("../actions/run", () => ({
  guessLoss: () => "loss",
  runGraph: async () => {
    runs.count++;
  },
}));

const { useGraph } = await import("./graphStore");
const { useResults } = await import("./resultsStore");
const { socketFactory, useTrain } = await import("./trainStore");

class FakeSocket implements SocketLike {
  readyState = 1;
  sent: { type: string; graph?: GraphDoc }[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closed = true;
  }
  answer(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

const param = (init: number[]) => ({ id: "w", op: "parameter", attrs: { init, shape: [2] }, inputs: {} });
const doc = (init: number[]) =>
  ({
    version: 1,
    nodes: [param(init)],
    run: { output: null },
    layout: { w: { x: 10, y: 20 } },
  }) as unknown as GraphDoc;

describe("the train store over a fake socket", () => {
  it("trains, shows the snapshots' results, keeps the trained graph, and resets", () => {
    const sockets: FakeSocket[] = [];
    socketFactory.open = () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    };
    useGraph.getState().loadDoc(doc([1, 2]));
    const before = useGraph.getState().graph;
    const t = useTrain.getState();
    t.setOpen(true);
    t.setField("lr", "0.5");
    t.setField("steps", "3");
    t.play();

    const s = sockets[0];
    const start = s.sent[0];
    expect(start.type).toBe("start");
    expect(start.graph?.run?.output).toBe("loss"); // the guessed loss, as Run guesses it
    expect(
      (start.graph as GraphDoc & { train: { optimizer: { lr: number }; steps: number } }).train,
    ).toMatchObject({
      optimizer: { name: "sgd", lr: 0.5 },
      steps: 3,
    });
    expect(useGraph.getState().graph.train?.optimizer.lr).toBe(0.5); // saved with the graph

    s.answer({ type: "started", steps: 3, parameters: ["w"], task: null, data: null });
    s.answer({
      type: "progress",
      points: [{ step: 1, loss: 2, test_loss: null, accuracy: null, test_accuracy: null }],
    });
    const result = { nodes: {}, order: ["w"], run: {} } as unknown as EvaluateResponse;
    s.answer({ type: "snapshot", step: 1, result, boundary: null, curve: null });
    expect(useResults.getState().run).toEqual(result);
    expect(useTrain.getState().view.phase).toBe("running");

    t.stop();
    expect(s.sent.at(-1)).toEqual({ type: "stop" });
    s.answer({ type: "done", step: 1, reason: "stopped", graph: doc([0.5, 1.5]) });
    const trained = useGraph.getState().graph;
    expect(trained.nodes[0].data.attrs.init).toEqual([0.5, 1.5]);
    expect(trained.nodes[0].position).toEqual(before.nodes[0].position);
    expect(runs.count).toBe(1);
    expect(s.closed).toBe(true);

    t.setField("lr", "0.1"); // a new lr typed for the next run survives the reset
    useTrain.getState().reset();
    const back = useGraph.getState().graph;
    expect(back.nodes[0].data.attrs.init).toEqual([1, 2]);
    expect(back.train?.optimizer.lr).toBe(0.5);
    expect(useTrain.getState().form.lr).toBe("0.1");
    expect(useResults.getState().run).toBeNull();
    expect(useTrain.getState().view.phase).toBe("idle");
  });

  it("refuses a bad form before any socket opens, and closing the panel ends a run", () => {
    const sockets: FakeSocket[] = [];
    socketFactory.open = () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    };
    useGraph.getState().loadDoc(doc([1, 2]));
    const t = useTrain.getState();
    t.setField("lr", "-1");
    t.play();
    expect(sockets).toHaveLength(0);
    expect(useTrain.getState().formErrors.lr).toBe("must be above 0");
    t.setField("lr", "0.1");
    t.play();
    expect(sockets).toHaveLength(1);
    t.setOpen(false);
    expect(sockets[0].closed).toBe(true);
    expect(useTrain.getState().view.phase).toBe("done");
  });
});

describe("a graph loaded while the panel is open", () => {
  it("ends the session and forgets the old graph, but not for the same graph laid out again", () => {
    const sockets: FakeSocket[] = [];
    socketFactory.open = () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    };
    useGraph.getState().loadDoc(doc([1, 2]));
    useTrain.getState().play();
    expect(useTrain.getState().original).not.toBeNull();
    useTrain.getState().graphLoaded(); // the same node ids: an auto-layout
    expect(sockets[0].closed).toBe(false);
    const other = {
      ...doc([3, 4]),
      nodes: [{ ...param([3, 4]), id: "v" }],
      layout: {},
    } as unknown as GraphDoc;
    useGraph.getState().loadDoc(other);
    useTrain.getState().graphLoaded();
    expect(sockets[0].closed).toBe(true);
    expect(useTrain.getState().original).toBeNull();
    expect(useTrain.getState().view.phase).toBe("idle");
  });
});

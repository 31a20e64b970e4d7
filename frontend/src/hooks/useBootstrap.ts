// Start-up: the op registry, the server's devices and examples, then the graph (URL, autosave, or empty).
import { useEffect, useState } from "react";
import { follow } from "../actions/room";
import { openShared } from "../actions/share";
import { ApiError, api } from "../api/client";
import { emptyHistory } from "../core/history";
import { decodeFragment } from "../core/share";
import { useGraph } from "../store/graphStore";
import { useServer } from "../store/serverStore";
import { readAutosave } from "./useAutosave";

export type BootState =
  | { status: "loading" }
  | { status: "ready" }
  | { status: "failed"; message: string }
  // The server has a class token and this browser has not given it (components/TokenForm.tsx).
  | { status: "token" };

/** The graph to start with: a share link's (actions/share.ts), else the autosaved one. */
function openInitial(): void {
  const shared = decodeFragment(location.hash);
  if (shared) {
    openShared(shared, location.hash);
    return;
  }
  const doc = readAutosave();
  if (doc) {
    useGraph.getState().loadDoc(doc);
    useGraph.setState({ history: emptyHistory() });
  }
}

export function useBootstrap(): [BootState, () => void] {
  const [state, setState] = useState<BootState>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` re-runs the start-up on retry
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const ops = await api.ops();
        if (cancelled) return;
        useGraph.getState().setOps(ops.categories, ops.ops);
        const room = new URLSearchParams(location.search).get("room");
        if (room) follow(room);
        else openInitial();
        setState({ status: "ready" });
      } catch (e) {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 401) setState({ status: "token" });
        else setState({ status: "failed", message: (e as Error).message });
        return;
      }
      api
        .health()
        .then((h) =>
          useServer
            .getState()
            .set({ devices: h.devices.includes("cuda") ? ["cpu", "cuda", "auto"] : ["cpu"] }),
        )
        .catch(() => {});
      api
        .examples()
        .then((examples) => useServer.getState().set({ examples }))
        .catch(() => {});
    })();
    return () => {
      cancelled = true;
    };
  }, [attempt]);
  return [state, () => setAttempt((a) => a + 1)];
}

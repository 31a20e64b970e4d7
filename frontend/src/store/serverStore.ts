// What the server offers: devices and examples.
import { create } from "zustand";
import type { ExampleSummary } from "../api/types";

interface ServerState {
  devices: string[];
  examples: ExampleSummary[];
  set(p: Partial<Pick<ServerState, "devices" | "examples">>): void;
}

export const useServer = create<ServerState>()((set) => ({
  devices: ["cpu"],
  examples: [],
  set: (p) => set(p),
}));

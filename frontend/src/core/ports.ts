// Handle ids: a port's handle id is its name; a variadic port (cat's tensors) has tensors.0, tensors.1, ... plus one free.
import type { PortInfo } from "../api/types";

export const OUTPUT_HANDLE = "out";

export const handleId = (port: string, index: number) => `${port}.${index}`;

export function parseHandle(handle: string): { port: string; index: number | null } {
  const m = /^(.*)\.(\d+)$/.exec(handle);
  return m ? { port: m[1], index: Number(m[2]) } : { port: handle, index: null };
}

export interface HandleSpec {
  id: string;
  port: PortInfo;
  index: number | null;
}

/** The input handles a node shows: one per port, and for a variadic port one per edge plus a free one. */
export function inputHandles(ports: PortInfo[], connected: string[]): HandleSpec[] {
  const out: HandleSpec[] = [];
  for (const port of ports) {
    if (!port.variadic) {
      out.push({ id: port.name, port, index: null });
      continue;
    }
    const used = connected
      .map(parseHandle)
      .filter((h) => h.port === port.name && h.index !== null)
      .map((h) => h.index as number)
      .sort((a, b) => a - b);
    for (const i of used) out.push({ id: handleId(port.name, i), port, index: i });
    const free = used.length ? used[used.length - 1] + 1 : 0;
    out.push({ id: handleId(port.name, free), port, index: free });
  }
  return out;
}

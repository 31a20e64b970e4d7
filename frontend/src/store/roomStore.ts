// The presenter room this page is in, if any: presenting it, following it, or a copy made from
// it (actions/room.ts keeps the connection).
import { create } from "zustand";

export type RoomRole = "none" | "asking" | "presenting" | "following" | "copy";

interface RoomStoreState {
  role: RoomRole;
  room: string | null;
  /** The presenter's key, this page's only. */
  key: string | null;
  maxBytes: number;
  status: "connecting" | "live" | "reconnecting" | "closed";
  /** What the page says about the room: an error, a limit met, why it closed. */
  message: string | null;
}

export const useRoom = create<RoomStoreState>()(() => ({
  role: "none",
  room: null,
  key: null,
  maxBytes: 4 * 2 ** 20,
  status: "closed",
  message: null,
}));

/** While following, the page shows the presenter's graph: edits are the presenter's. */
export const isFollowing = () => useRoom.getState().role === "following";

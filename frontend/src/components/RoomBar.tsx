// The presenter room's bar under the toolbar: the link the class opens while presenting; "make
// my copy" while following, "follow again" after; the teacher token when presenting needs it.
import { useState } from "react";
import { followAgain, makeCopy, present, stopPresenting } from "../actions/room";
import { roomLink } from "../core/room";
import { useGraph } from "../store/graphStore";
import { useRoom } from "../store/roomStore";

function Presenting({ room }: { room: string }) {
  const link = roomLink(location.href, room);
  const status = useRoom((s) => s.status);
  return (
    <>
      <span>
        Presenting room <b data-testid="room-id">{room}</b>
        {status !== "live" && <span className="muted"> · {status}…</span>}: the class opens{" "}
      </span>
      <input
        className="room-link"
        data-testid="room-link"
        readOnly
        value={link}
        onFocus={(e) => e.target.select()}
      />
      <button
        type="button"
        onClick={() =>
          navigator.clipboard
            ?.writeText(link)
            .then(() => useGraph.getState().notify("info", "Room link copied."))
            .catch(() => {})
        }
      >
        Copy link
      </button>
      <button type="button" data-testid="room-stop" onClick={() => stopPresenting()}>
        Stop presenting
      </button>
    </>
  );
}

function AskToken() {
  const [token, setToken] = useState("");
  return (
    <form
      className="room-ask"
      onSubmit={(e) => {
        e.preventDefault();
        void present(token);
      }}
    >
      <label htmlFor="teacher-token">Presenting needs the teacher token:</label>
      <input
        id="teacher-token"
        data-testid="teacher-token"
        type="password"
        autoComplete="current-password"
        value={token}
        onChange={(e) => setToken(e.target.value)}
      />
      <button type="submit" data-testid="teacher-token-submit">
        Present
      </button>
      <button type="button" onClick={() => useRoom.setState({ role: "none", message: null })}>
        Cancel
      </button>
    </form>
  );
}

export function RoomBar() {
  const role = useRoom((s) => s.role);
  const room = useRoom((s) => s.room);
  const status = useRoom((s) => s.status);
  const message = useRoom((s) => s.message);
  if (role === "none" && !message) return null;
  return (
    <div className={`room-bar ${role}`} data-testid="room-bar" data-role={role}>
      {role === "presenting" && room && <Presenting room={room} />}
      {role === "asking" && <AskToken />}
      {role === "following" && (
        <>
          <span>
            Following room <b>{room}</b>
            {status === "live" ? ": the presenter's graph, live" : ` · ${status}…`}
          </span>
          <button type="button" data-testid="room-copy" onClick={makeCopy}>
            Make my copy
          </button>
        </>
      )}
      {role === "copy" && room && (
        <>
          <span>Your copy of room {room}</span>
          <button type="button" data-testid="room-follow" onClick={followAgain}>
            Follow again
          </button>
        </>
      )}
      {message && (
        <span className="room-message" data-testid="room-message">
          {message}
        </span>
      )}
      {role === "none" && (
        <button type="button" onClick={() => useRoom.setState({ message: null })}>
          ✕
        </button>
      )}
    </div>
  );
}

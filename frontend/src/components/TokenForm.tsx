// Asked once, before the editor loads, when the server has a class token and this browser has not
// given it: the server keeps it in an HttpOnly cookie (POST /api/auth/token), so no script reads it.
import { type FormEvent, useState } from "react";
import { ApiError, api } from "../api/client";

export function TokenForm({ onAccepted }: { onAccepted: () => void }) {
  const [token, setToken] = useState("");
  const [wrong, setWrong] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await api.login(token.trim());
      onAccepted();
    } catch (err) {
      setWrong(
        err instanceof ApiError && err.status === 401
          ? "That is not this server's token. Check it and try again."
          : (err as Error).message,
      );
      setBusy(false);
    }
  }

  return (
    <div className="splash">
      <form className="token-form" data-testid="token-form" onSubmit={submit}>
        <h2>This dagrad server needs a token</h2>
        <p>
          Enter the token your teacher gave you, or open the link they shared (it ends in{" "}
          <code>?token=…</code>). This browser remembers it.
        </p>
        <div className="token-row">
          <input
            type="password"
            aria-label="Token"
            data-testid="token-input"
            autoComplete="off"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            // biome-ignore lint/a11y/noAutofocus: the only thing on the page
            autoFocus
          />
          <button type="submit" data-testid="token-submit" disabled={busy || !token.trim()}>
            Enter
          </button>
        </div>
        {wrong && (
          <p className="token-wrong" role="alert" data-testid="token-wrong">
            {wrong}
          </p>
        )}
      </form>
    </div>
  );
}

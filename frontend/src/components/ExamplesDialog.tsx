// The examples gallery: the course chapter's graphs, one click each.
import { useEffect } from "react";
import { replaceGraph } from "../actions/files";
import { api } from "../api/client";
import { useGraph } from "../store/graphStore";
import { useResults } from "../store/resultsStore";
import { useServer } from "../store/serverStore";

export function ExamplesDialog({ onClose }: { onClose: () => void }) {
  const examples = useServer((s) => s.examples);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  const sections = [...new Set(examples.map((e) => e.section ?? "Other"))].sort();
  const open = async (name: string) => {
    try {
      const doc = await api.example(name);
      replaceGraph(doc, `Opened the example “${doc.title ?? name}”.`);
      useResults.getState().clearRun();
      onClose();
    } catch (e) {
      useGraph.getState().notify("error", `Could not load the example: ${(e as Error).message}`);
    }
  };
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions lint/a11y/useKeyWithClickEvents: backdrop closes the dialog (Escape too)
    <div className="backdrop" onClick={onClose}>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: the dialog only stops clicks reaching the backdrop */}
      <div className="dialog" role="dialog" aria-label="Examples" onClick={(e) => e.stopPropagation()}>
        <div className="dialog-head">
          <h2>Examples from the course</h2>
          <button type="button" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
        {!examples.length && (
          <p className="muted">No examples: the server offers none, or cannot be reached.</p>
        )}
        {sections.map((sec) => (
          <section key={sec}>
            <h3>{sec}</h3>
            <div className="cards">
              {examples
                .filter((e) => (e.section ?? "Other") === sec)
                .map((e) => (
                  <button
                    type="button"
                    key={e.name}
                    className="card"
                    data-testid={`example-${e.name}`}
                    onClick={() => open(e.name)}
                  >
                    <strong>{e.title ?? e.name}</strong>
                    <span>{e.description}</span>
                  </button>
                ))}
            </div>
          </section>
        ))}
      </div>
    </div>
  );
}

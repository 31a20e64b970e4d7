// Predict, then reveal: where a hidden gradient would be, the button that shows it.
import { useReveal } from "../store/revealStore";

export function RevealButton({ id, compact = false }: { id: string; compact?: boolean }) {
  return (
    <div className={`grad-hidden${compact ? " compact" : ""}`} data-testid={`grad-hidden-${id}`}>
      {!compact && <span>Predict {id}'s gradient first.</span>}
      <button
        type="button"
        className="reveal nodrag"
        data-testid={`reveal-${id}`}
        title="Show this node's gradient: once you have worked it out"
        onClick={(e) => {
          e.stopPropagation();
          useReveal.getState().reveal(id);
        }}
      >
        {compact ? "? reveal" : "Reveal the gradient"}
      </button>
    </div>
  );
}

// Says what the receptive field overlay on a node's map means, which colour is which region, and
// how large each is on this node; on the clicked node, which element was clicked.
import { fieldSummary } from "../core/field";
import { useField } from "../store/fieldStore";
import { FIELD_COLOURS } from "./Heatmap";

const swatch = (rgb: readonly number[]) => ({ background: `rgb(${rgb.join(",")})` });

export function FieldLegend({ nodeId }: { nodeId: string }) {
  const { clicked, field, loading, message, clear } = useField();
  if (!clicked && !message) {
    return (
      <p className="field-hint muted" data-testid="field-hint">
        Click an element of the map to see its receptive field on every node upstream.
      </p>
    );
  }
  const mine = field?.fields.find((f) => f.node === nodeId);
  const where = clicked ? `${clicked.node}[${clicked.index.join(", ")}]` : "";
  return (
    <div className="field-legend" data-testid="field-legend">
      <div className="field-title">
        <strong>Receptive field of {where}</strong>
        <button type="button" onClick={clear} data-testid="field-clear">
          Clear
        </button>
      </div>
      {loading && <p>Computing…</p>}
      {message && (
        <p className="warn" data-testid="field-error">
          {message}
        </p>
      )}
      {field && (
        <>
          <ul className="field-keys">
            <li>
              <span className="field-swatch" style={swatch(FIELD_COLOURS.influence)} /> can influence it,
              whatever the data (from the ops' shapes and attributes)
            </li>
            <li>
              <span className="field-swatch" style={swatch(FIELD_COLOURS.gradient)} /> gradient non-zero for
              this input (torch.autograd.grad of that one element)
            </li>
            <li>
              <span className="field-swatch" style={swatch(FIELD_COLOURS.marked)} /> the clicked element
            </li>
          </ul>
          <p className="field-summary" data-testid="field-summary">
            {nodeId === field.node
              ? `This is the clicked element (value ${field.value ?? "not finite"}). Select a node upstream to see the field on it; the canvas marks every one.`
              : mine
                ? `On ${nodeId}: ${fieldSummary(
                    mine.shape.reduce((a, b) => a * b, 1),
                    mine.structural,
                    mine.gradient,
                    { structural: mine.structural_note, gradient: mine.gradient_note },
                  )}`
                : `${nodeId} is not upstream of ${field.node}: nothing here can influence it.`}
          </p>
        </>
      )}
    </div>
  );
}

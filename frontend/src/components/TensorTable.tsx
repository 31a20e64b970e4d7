// Every element of a tensor, as a table of its last two dimensions (first 64 x 64 of each map shown).
// With a receptive field: each cell coloured as the heatmap colours its element, and clickable for
// the element's own field (a small tensor's numbers are as clickable as a larger one's map).
import { exactText } from "../core/numbers";
import { asMaps, type Tensor, unravel } from "../core/tensor";
import { FIELD_COLOURS } from "./Heatmap";

interface Field {
  /** A click on an element (its flat index): asks for its receptive field. */
  onPick?: (flat: number) => void;
  /** 0 outside the field, 1 can influence, 2 gradient non-zero (core/field.ts). */
  overlay?: Uint8Array;
  marked?: number | null;
}

const rgba = (rgb: readonly number[], a: number) => `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${a})`;

function fieldStyle(kind: number | undefined, marked: boolean) {
  if (marked) return { outline: `3px solid ${rgba(FIELD_COLOURS.marked, 1)}`, outlineOffset: "-3px" };
  if (kind === undefined) return undefined;
  if (kind === 2) return { background: rgba(FIELD_COLOURS.gradient, 0.45) };
  if (kind === 1) return { background: rgba(FIELD_COLOURS.influence, 0.45) };
  return { opacity: 0.45 };
}

const LIMIT = 64;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function TensorTable({
  tensor,
  testId,
  onPick,
  overlay,
  marked,
}: { tensor: Tensor; testId: string } & Field) {
  const m = asMaps(tensor.shape);
  const maps = Math.min(m.count, 16);
  const per = m.h * m.w;
  return (
    <div className="tensor-table" data-testid={testId}>
      {range(maps).map((k) => {
        const lead = tensor.shape.length > 2 ? unravel(k * per, tensor.shape).slice(0, -2) : [];
        return (
          <table key={k}>
            {lead.length > 0 && <caption>[{lead.join(", ")}, :, :]</caption>}
            <tbody>
              {range(Math.min(m.h, LIMIT)).map((r) => (
                <tr key={r}>
                  {range(Math.min(m.w, LIMIT)).map((c) => {
                    const flat = k * per + r * m.w + c;
                    const idx = unravel(flat, tensor.shape);
                    const v = tensor.data[flat];
                    return (
                      <td
                        key={idx.join(",")}
                        data-index={idx.join(",")}
                        data-field={overlay ? overlay[flat] : undefined}
                        title={`[${idx.join(", ")}] = ${exactText(v, tensor.dtype)}`}
                        className={onPick ? "pickable" : undefined}
                        style={fieldStyle(overlay?.[flat], marked === flat)}
                        onClick={onPick && (() => onPick(flat))}
                        onKeyDown={
                          onPick &&
                          ((e) => {
                            if (e.key === "Enter" || e.key === " ") {
                              e.preventDefault();
                              onPick(flat);
                            }
                          })
                        }
                        tabIndex={onPick ? 0 : undefined}
                      >
                        {Number.isFinite(v) ? Number(v.toPrecision(6)) : String(v)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        );
      })}
      {(m.h > LIMIT || m.w > LIMIT || m.count > maps) && (
        <p className="muted">Only part of the tensor is shown as a table; download it for every element.</p>
      )}
    </div>
  );
}

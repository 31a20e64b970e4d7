// Every element of a tensor, as a table of its last two dimensions (first 64 x 64 of each map shown).
import { exactText } from "../core/numbers";
import { asMaps, type Tensor, unravel } from "../core/tensor";

const LIMIT = 64;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function TensorTable({ tensor, testId }: { tensor: Tensor; testId: string }) {
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
                        title={`[${idx.join(", ")}] = ${exactText(v, tensor.dtype)}`}
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

// Attribute fields generated from the op's attrs_schema, each checked against it as you type.
import { useEffect, useState } from "react";
import type { OpInfo } from "../api/types";
import { type Field, fields, formatValue, parseInput, validateValue } from "../core/schema";
import { useGraph } from "../store/graphStore";

interface Props {
  nodeId: string;
  op: OpInfo;
  attrs: Record<string, unknown>;
  serverErrors: Record<string, string>;
}

/** Source attributes that do not apply to the chosen init are hidden. */
const INIT_FIELDS: Record<string, string[]> = {
  full: ["value"],
  arange: ["start", "step"],
  normal: ["mean", "std"],
  uniform: ["low", "high"],
  values: ["values"],
};
const INIT_ONLY = new Set(Object.values(INIT_FIELDS).flat());

function TextField({
  field,
  value,
  onCommit,
}: {
  field: Field;
  value: unknown;
  onCommit: (v: unknown) => void;
}) {
  const [text, setText] = useState(formatValue(value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(formatValue(value)), [value]);
  // Enter commits, and so does the blur that follows: a value already set is no new edit (it
  // was a second undo step, and Ctrl+Z seemed to do nothing).
  const commit = () => {
    const parsed = parseInput(field, text);
    if (parsed === null && !field.nullable && text.trim() === "") {
      setError(null);
      if (value !== undefined) onCommit(undefined);
      return;
    }
    const err = validateValue(field, parsed);
    setError(err);
    if (!err && JSON.stringify(parsed) !== JSON.stringify(value)) onCommit(parsed);
  };
  const multiline = field.name === "values";
  const common = {
    className: `nodrag${error ? " invalid" : ""}`,
    value: text,
    "data-testid": `attr-${field.name}`,
    placeholder: field.default === null ? (field.nullable ? "none" : "") : formatValue(field.default),
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setText(e.target.value),
    onBlur: commit,
  };
  return (
    <>
      {multiline ? (
        <textarea rows={4} {...common} />
      ) : (
        <input
          {...common}
          onKeyDown={(e) => {
            if (e.key === "Enter") commit();
          }}
        />
      )}
      {error && <div className="field-error">{error}</div>}
    </>
  );
}

export function AttrForm({ nodeId, op, attrs, serverErrors }: Props) {
  const setAttr = useGraph((s) => s.setAttr);
  const init =
    (attrs.init as string | undefined) ??
    (op.attrs_schema.properties as Record<string, { default?: string }>)?.init?.default;
  const list = fields(op.attrs_schema).filter(
    (f) =>
      !op.source ||
      !INIT_ONLY.has(f.name) ||
      INIT_FIELDS[init ?? ""]?.includes(f.name) ||
      f.name in serverErrors, // its error is said under it
  );
  if (!list.length) return <p className="muted">This op has no attributes.</p>;
  return (
    <div className="attr-form">
      {list.map((f) => {
        const value = f.name in attrs ? attrs[f.name] : undefined;
        const id = `attr-${nodeId}-${f.name}`;
        return (
          <div className="field" key={f.name}>
            <label htmlFor={id} title={f.description}>
              {f.title}
              {!(f.name in attrs) && <span className="muted"> (default)</span>}
            </label>
            {f.kind === "boolean" ? (
              <input
                id={id}
                className="nodrag"
                type="checkbox"
                data-testid={`attr-${f.name}`}
                checked={Boolean(value ?? f.default)}
                onChange={(e) => setAttr(nodeId, f.name, e.target.checked)}
              />
            ) : f.kind === "enum" ? (
              <select
                id={id}
                className="nodrag"
                data-testid={`attr-${f.name}`}
                value={formatValue(value ?? f.default)}
                onChange={(e) =>
                  setAttr(nodeId, f.name, e.target.value === "" && f.nullable ? null : e.target.value)
                }
              >
                {f.nullable && <option value="">(none)</option>}
                {f.options.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
                  </option>
                ))}
              </select>
            ) : (
              <TextField field={f} value={value} onCommit={(v) => setAttr(nodeId, f.name, v)} />
            )}
            {serverErrors[f.name] && <div className="field-error">{serverErrors[f.name]}</div>}
            <div className="field-help">{f.description}</div>
          </div>
        );
      })}
    </div>
  );
}

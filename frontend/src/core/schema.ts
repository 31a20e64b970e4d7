// The subset of JSON Schema that op attributes use (pydantic's output): fields, defaults and validation.
export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export type FieldKind = "boolean" | "enum" | "number" | "integer" | "string" | "json";

export interface Field {
  name: string;
  title: string;
  description: string;
  kind: FieldKind;
  options: unknown[];
  nullable: boolean;
  schema: JsonSchema;
  default: unknown;
}

/** Branches of a schema, null split off. */
function branches(s: JsonSchema): { variants: JsonSchema[]; nullable: boolean } {
  const all = s.anyOf ?? [s];
  const variants = all.filter((v) => v.type !== "null");
  return { variants, nullable: variants.length < all.length };
}

export function fields(schema: Record<string, unknown>): Field[] {
  const props = (schema as JsonSchema).properties ?? {};
  return Object.entries(props).map(([name, s]) => {
    const { variants, nullable } = branches(s);
    let kind: FieldKind = "json";
    let options: unknown[] = [];
    if (variants.length === 1) {
      const v = variants[0];
      if (v.enum) {
        kind = "enum";
        options = v.enum;
      } else if (v.type === "boolean" || v.type === "number" || v.type === "integer" || v.type === "string") {
        kind = v.type;
      }
    }
    return {
      name,
      title: s.title ?? name,
      description: s.description ?? "",
      kind,
      options,
      nullable,
      schema: s,
      default: s.default ?? null,
    };
  });
}

/** The attributes a new node starts with: required ones with a placeholder, the rest left to defaults. */
export function initialAttrs(schema: Record<string, unknown>, isSource: boolean): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  if (isSource) {
    attrs.shape = [3];
    attrs.init = "normal";
  }
  const required = ((schema as { required?: string[] }).required ?? []) as string[];
  for (const name of required) if (!(name in attrs)) attrs[name] = [];
  return attrs;
}

function typeOk(value: unknown, s: JsonSchema, path: string): string | null {
  if (s.anyOf) {
    const errs = s.anyOf.map((b) => typeOk(value, b, path));
    return errs.some((e) => e === null) ? null : (errs.find((e) => e) ?? "invalid");
  }
  if (s.enum && !s.enum.includes(value)) return `${path} must be one of ${s.enum.map(String).join(", ")}`;
  switch (s.type) {
    case "null":
      return value === null ? null : `${path} must be empty`;
    case "boolean":
      return typeof value === "boolean" ? null : `${path} must be true or false`;
    case "string":
      return typeof value === "string" ? null : `${path} must be text`;
    case "integer":
    case "number": {
      if (typeof value !== "number" || Number.isNaN(value)) return `${path} must be a number`;
      if (s.type === "integer" && !Number.isInteger(value)) return `${path} must be a whole number`;
      if (s.minimum !== undefined && value < s.minimum) return `${path} must be at least ${s.minimum}`;
      if (s.maximum !== undefined && value > s.maximum) return `${path} must be at most ${s.maximum}`;
      if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum)
        return `${path} must be more than ${s.exclusiveMinimum}`;
      return null;
    }
    case "array": {
      if (!Array.isArray(value)) return `${path} must be a list such as [5, 5]`;
      if (!s.items) return null;
      for (let i = 0; i < value.length; i++) {
        const e = typeOk(value[i], s.items, `${path}[${i}]`);
        if (e) return e;
      }
      return null;
    }
    default:
      return null;
  }
}

/** An error message for one attribute value, or null when the schema accepts it. */
export function validateValue(field: Field, value: unknown): string | null {
  return typeOk(value, field.schema, field.title);
}

/** Every attribute error of a node, by attribute name. */
export function validateAttrs(
  schema: Record<string, unknown>,
  attrs: Record<string, unknown>,
): Record<string, string> {
  const errors: Record<string, string> = {};
  const byName = new Map(fields(schema).map((f) => [f.name, f]));
  for (const [name, value] of Object.entries(attrs)) {
    const f = byName.get(name);
    if (!f) {
      errors[name] = `unknown attribute ${name}`;
      continue;
    }
    const e = validateValue(f, value);
    if (e) errors[name] = e;
  }
  return errors;
}

/** True when the schema (or one of its branches) has this type. */
function accepts(s: JsonSchema, type: string): boolean {
  return s.type === type || (s.anyOf ?? []).some((b) => accepts(b, type));
}

/** Parse what was typed into a field: numbers as numbers, lists as JSON ("5, 5" reads as [5, 5]). */
export function parseInput(field: Field, text: string): unknown {
  const t = text.trim();
  if (t === "" && (field.nullable || field.default === null)) return null;
  if (field.kind === "number" || field.kind === "integer") return t === "" ? Number.NaN : Number(t);
  if (field.kind === "string") return t;
  try {
    const v = JSON.parse(t);
    // "5" in a shape field means [5]: a lone number where only a list is accepted.
    if (typeof v === "number" && accepts(field.schema, "array") && !accepts(field.schema, "integer")) {
      return accepts(field.schema, "number") ? v : [v];
    }
    return v;
  } catch {
    if (/^-?[\d.eE+-]+(\s*,\s*-?[\d.eE+-]+)*,?$/.test(t)) {
      return t
        .split(",")
        .filter((s) => s.trim())
        .map(Number);
    }
    return t;
  }
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

// What the status bar and the nodes say about errors, React-free. Each error is said in one place
// each: the node carries a short line, the inspector the whole message, the status bar a count (and
// the errors that belong to no node, which have no other place).
import type { GraphError } from "../api/types";

export type Tone = "good" | "todo" | "bad" | "busy";

export interface Line {
  text: string;
  tone: Tone;
}

/** The validation's state in a few words: a port left unconnected is normal while building, so a
 * graph whose only errors are those asks to connect them rather than counting errors. */
export function validationLine(s: {
  nodes: number;
  validating: boolean;
  validationMessage: string | null;
  validationErrors: GraphError[];
}): Line | null {
  if (s.validationMessage) return { text: s.validationMessage, tone: "bad" };
  if (s.validating) return { text: "checking…", tone: "busy" };
  const missing = s.validationErrors.filter((e) => e.code === "missing_input").length;
  const errors = s.validationErrors.length - missing;
  if (errors) return { text: `${plural(errors, "error")}: see the marked nodes`, tone: "bad" };
  if (missing) return { text: `${plural(missing, "input")} to connect`, tone: "todo" };
  return s.nodes ? { text: "✓ shapes check out", tone: "good" } : null;
}

/** The last run's failure, while it stands (an edit or another run ends it): where the errors are
 * on nodes, that they are there; else what they say, but for what validation already says. */
export function runFailureLine(s: {
  runMessage: string | null;
  runErrors: GraphError[];
  validationErrors: GraphError[];
}): string | null {
  if (s.runMessage === null) return null;
  if (s.runErrors.some((e) => e.node)) return "The run failed: the marked nodes say why.";
  const said = new Set(s.validationErrors.map((e) => e.message));
  const own = s.runErrors.filter((e) => !said.has(e.message)).map((e) => e.message);
  if (s.runErrors.length && !own.length) return "The run failed."; // for the errors validation names
  return `The run failed: ${lowerFirst(own.length ? own.join(" ") : s.runMessage)}`;
}

/** Errors about the whole graph (no node to mark), from validation: the status bar says them. */
export const unlocated = (errors: GraphError[]): GraphError[] => errors.filter((e) => !e.node);

/** The line a node shows of one of its errors: its first sentence, the rest being the inspector's
 * (what to change); cut short on a word when even that is long. */
export function errorSummary(message: string, most = 100): string {
  const end = message.search(/(?<!\b(?:e\.g|i\.e))[.;](\s|$)/); // not at "e.g." or "i.e."
  const first = end >= 0 ? message.slice(0, end + 1) : message;
  if (first.length <= most) return first;
  const cut = first.slice(0, most);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), most / 2)).replace(/[\s,:;]+$/, "")}…`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

/**
 * Suppression comments: `# bnlint: disable=<ids>` (this line), `# bnlint: disable-next-line=<ids>`,
 * `# bnlint: disable-file=<ids>`, and Ruff's `# noqa: <ids>`, each with an optional reason after ` -- `.
 * Read from the parser's comment nodes, so text inside strings never counts.
 */
import type { SyntaxNode } from "../frontend/python/parser.js";
import { rangeOf, type SourceRange } from "../model/source.js";
import type { Diagnostic, Severity } from "./diagnostic.js";

export type DirectiveScope = "line" | "next-line" | "file";

export interface Directive {
  scope: DirectiveScope;
  /** Rule ids named, or "all" for a bare `# bnlint: disable`. */
  rules: string[] | "all";
  justification: string;
  /** The line whose findings it silences (unused for `file`). */
  line: number;
  comment: SourceRange;
  /** `noqa` comments name other tools' codes too: only bnlint ids count, and unknown ones are not reported. */
  fromNoqa: boolean;
}

const BNLINT = /#\s*bnlint:\s*(disable-next-line|disable-file|disable)\b\s*(?:=\s*([\w\s,-]*?))?\s*(?:--\s*(.*?))?\s*(?=#|$)/g;
const NOQA = /#\s*noqa\s*:\s*([\w-]+(?:\s*,\s*[\w-]+)*)\s*(?:--\s*(.*?))?\s*(?=#|$)/gi;

function idList(text: string | undefined): string[] | "all" {
  const ids = (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return ids.length === 0 ? "all" : ids;
}

/** The comment node that starts at `index`, if any. */
function commentAt(root: SyntaxNode, index: number): SyntaxNode | undefined {
  const node = root.descendantForIndex(index);
  return node.type === "comment" && node.startIndex === index ? node : undefined;
}

/**
 * Comment nodes that may hold a directive. With the source, only lines mentioning `bnlint:` or `noqa` are
 * looked at (each `#` on them checked against the tree, so a `#` inside a string never counts); walking every
 * comment of a large file costs more than the rest of the lint.
 */
function candidateComments(root: SyntaxNode, source?: string): SyntaxNode[] {
  if (source === undefined) return root.descendantsOfType("comment");
  const found: SyntaxNode[] = [];
  for (const m of source.matchAll(/^[^\n]*(?:bnlint:|noqa)[^\n]*$/gim)) {
    const lineStart = m.index!;
    for (let i = source.indexOf("#", lineStart); i >= 0 && i < lineStart + m[0].length; i = source.indexOf("#", i + 1)) {
      const c = commentAt(root, i);
      if (c) {
        found.push(c);
        break;
      }
    }
  }
  return found;
}

/** Every suppression directive in the file's comments, in source order. */
export function collectDirectives(root: SyntaxNode, source?: string): Directive[] {
  const out: Directive[] = [];
  for (const node of candidateComments(root, source)) {
    if (!node) continue;
    const text = node.text;
    const comment = rangeOf(node);
    const line = comment.start.line;
    for (const m of text.matchAll(BNLINT)) {
      const scope: DirectiveScope = m[1] === "disable-next-line" ? "next-line" : m[1] === "disable-file" ? "file" : "line";
      out.push({ scope, rules: idList(m[2]), justification: (m[3] ?? "").trim(), line: scope === "next-line" ? line + 1 : line, comment, fromNoqa: false });
    }
    for (const m of text.matchAll(NOQA)) {
      out.push({ scope: "line", rules: idList(m[1]), justification: (m[2] ?? "").trim(), line, comment, fromNoqa: true });
    }
  }
  return out;
}

function covers(d: Directive, m: Diagnostic): boolean {
  if (m.ruleId === null || m.fatal) return false;
  if (d.scope !== "file" && d.line !== m.range.start.line) return false;
  return d.rules === "all" || d.rules.includes(m.ruleId);
}

export interface SuppressionOutcome {
  messages: Diagnostic[];
  suppressed: Diagnostic[];
  /** Messages about directives that silenced nothing (only when asked for). */
  unused: Diagnostic[];
}

/**
 * Moves findings covered by a directive to `suppressed` (with ESLint's `suppressions` list), and, when
 * `reportUnused` is set, reports each listed rule id of a directive that silenced nothing.
 */
export function applyDirectives(messages: Diagnostic[], directives: Directive[], knownRules: ReadonlySet<string>, reportUnused?: Severity): SuppressionOutcome {
  const used = directives.map(() => new Set<string>());
  const kept: Diagnostic[] = [];
  const suppressed: Diagnostic[] = [];
  for (const m of messages) {
    const matching = directives.map((d, i) => [d, i] as const).filter(([d]) => covers(d, m));
    if (matching.length === 0) {
      kept.push(m);
      continue;
    }
    for (const [, i] of matching) used[i].add(m.ruleId!);
    suppressed.push({ ...m, suppressions: matching.map(([d]) => ({ kind: "directive", justification: d.justification })) });
  }
  const unused: Diagnostic[] = [];
  if (reportUnused) {
    directives.forEach((d, i) => {
      const listed = d.rules === "all" ? (used[i].size === 0 ? ["all"] : []) : d.rules.filter((id) => !used[i].has(id) && (!d.fromNoqa || knownRules.has(id)));
      for (const id of listed) {
        const why = id === "all" ? "no problem was reported here" : knownRules.has(id) ? `no \`${id}\` problem was reported here` : `\`${id}\` is not a bnlint rule`;
        unused.push({ ruleId: null, messageId: "unusedDirective", severity: reportUnused, message: `Unused suppression directive: ${why}. Remove it from the comment.`, range: d.comment, related: [] });
      }
    });
  }
  return { messages: kept, suppressed, unused };
}

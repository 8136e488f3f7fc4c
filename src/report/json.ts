import type { Formatter } from "./formatter.js";
import type { Diagnostic, LintResult } from "../engine/diagnostic.js";

/** ESLint's fix shape: one edit. Several edits merge into one that spans them, keeping the text between. */
export function mergedFix(source: string | undefined, fix: NonNullable<Diagnostic["fix"]>): { range: [number, number]; text: string } {
  const edits = [...fix.edits].sort((a, b) => a.range[0] - b.range[0]);
  if (edits.length === 1 || source === undefined) return edits[0];
  const start = edits[0].range[0];
  const end = Math.max(...edits.map((e) => e.range[1]));
  let text = "";
  let cursor = start;
  for (const e of edits) {
    text += source.slice(cursor, e.range[0]) + e.text;
    cursor = e.range[1];
  }
  text += source.slice(cursor, end);
  return { range: [start, end], text };
}

function message(m: Diagnostic, source: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ruleId: m.ruleId,
    severity: m.severity,
    message: m.message,
    ...(m.messageId ? { messageId: m.messageId } : {}),
    line: m.range.start.line,
    column: m.range.start.column,
    endLine: m.range.end.line,
    endColumn: m.range.end.column,
  };
  if (m.fatal) out.fatal = true;
  if (m.fix) out.fix = mergedFix(source, m.fix);
  if (m.suggestions?.length) out.suggestions = m.suggestions.map((s) => ({ desc: s.title, fix: mergedFix(source, s) }));
  if (m.confirmation) out.confirmation = m.confirmation;
  if (m.suppressions) out.suppressions = m.suppressions;
  if (m.related.length) {
    out.relatedLocations = m.related.map((r) => ({ message: r.message, line: r.range.start.line, column: r.range.start.column, endLine: r.range.end.line, endColumn: r.range.end.column }));
  }
  return out;
}

export function toJsonResults(results: LintResult[]): unknown[] {
  return results.map((r) => ({
    filePath: r.filePath,
    messages: r.messages.map((m) => message(m, r.source)),
    suppressedMessages: r.suppressedMessages.map((m) => message(m, r.source)),
    errorCount: r.errorCount,
    fatalErrorCount: r.fatalErrorCount,
    warningCount: r.warningCount,
    fixableErrorCount: r.fixableErrorCount,
    fixableWarningCount: r.fixableWarningCount,
  }));
}

export const json: Formatter = (results) => `${JSON.stringify(toJsonResults(results))}\n`;

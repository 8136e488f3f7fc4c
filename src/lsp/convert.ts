/** bnlint findings → LSP diagnostics. Lines/columns are 1-based UTF-16 in bnlint, 0-based UTF-16 in LSP. */
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic, type Range } from "vscode-languageserver/node";
import type { SourceRange } from "../model/source.js";
import type { Diagnostic } from "../engine/diagnostic.js";
import { ruleDocsUrl } from "./rule-docs.js";

export const SOURCE = "bnlint";

export function toLspRange(r: SourceRange): Range {
  return { start: { line: r.start.line - 1, character: r.start.column - 1 }, end: { line: r.end.line - 1, character: r.end.column - 1 } };
}

/** A rule that crashed, or the linter itself: logged for the user to report, never shown as a finding. */
export function isInternalError(d: Diagnostic): boolean {
  return d.fatal === true && d.message.startsWith("Internal error");
}

/** Rules whose finding marks code that does nothing; editors fade it. */
const UNNECESSARY_RULES = new Set(["unused-batchnorm"]);

export function toLspDiagnostic(d: Diagnostic, uri: string): LspDiagnostic {
  const out: LspDiagnostic = {
    range: toLspRange(d.range),
    // Syntax errors are expected while typing and the Python language server already marks them: inform only.
    severity: d.fatal ? DiagnosticSeverity.Information : d.severity === 2 ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: SOURCE,
    message: d.fatal ? `${d.message}. bnlint findings come back when the file parses.` : d.message,
  };
  if (d.ruleId) {
    out.code = d.ruleId;
    const href = ruleDocsUrl(d.ruleId);
    if (href) out.codeDescription = { href };
    if (UNNECESSARY_RULES.has(d.ruleId)) out.tags = [DiagnosticTag.Unnecessary];
  }
  if (d.related.length > 0) {
    out.relatedInformation = d.related.map((r) => ({ location: { uri, range: toLspRange(r.range) }, message: r.message }));
  }
  return out;
}

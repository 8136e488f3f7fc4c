/** Quick fixes for one document: the fixes and suggestions a finding carries, and suppression comments. */
import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type Range, type TextEdit } from "vscode-languageserver/node";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { Diagnostic, Fix } from "../engine/diagnostic.js";
import { disableForFile, disableForLine, type LineEdit } from "./suppress.js";

/** A finding as published: bnlint's diagnostic beside the LSP one sent for it. */
export interface PublishedFinding {
  finding: Diagnostic;
  lsp: LspDiagnostic;
}

function overlaps(a: Range, b: Range): boolean {
  const before = (p: Range["start"], q: Range["start"]) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

function sameDiagnostic(a: LspDiagnostic, b: LspDiagnostic): boolean {
  return a.code === b.code && a.message === b.message && a.range.start.line === b.range.start.line && a.range.start.character === b.range.start.character;
}

function fixEdits(doc: TextDocument, fix: Fix): TextEdit[] {
  return fix.edits.map((e) => ({ range: { start: doc.positionAt(e.range[0]), end: doc.positionAt(e.range[1]) }, newText: e.text }));
}

function lineEdit(e: LineEdit): TextEdit {
  const at = { line: e.line, character: e.character };
  return { range: { start: at, end: at }, newText: e.text };
}

function action(title: string, doc: TextDocument, edits: TextEdit[], diagnostic: LspDiagnostic, preferred = false): CodeAction {
  return { title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: preferred || undefined, edit: { changes: { [doc.uri]: edits } } };
}

function fixTitle(fix: Fix): string {
  // Ruff's split: an unsafe fix changes behaviour or names (here: checkpoint keys), so the title says so.
  return fix.safety === "unsafe" ? `${fix.title} (unsafe fix)` : fix.title;
}

/**
 * Code actions for the findings under `range`. `findings` must have been computed from `doc`'s current text;
 * when the client names the diagnostics it wants actions for, only those are used.
 */
export function codeActionsFor(doc: TextDocument, findings: readonly PublishedFinding[], range: Range, requested: readonly LspDiagnostic[] = []): CodeAction[] {
  const text = doc.getText();
  const chosen = findings.filter(
    (f) => f.finding.ruleId && !f.finding.fatal && (requested.length > 0 ? requested.some((r) => sameDiagnostic(r, f.lsp)) : overlaps(f.lsp.range, range)),
  );
  const actions: CodeAction[] = [];
  for (const { finding, lsp } of chosen) {
    if (finding.fix) actions.push(action(fixTitle(finding.fix), doc, fixEdits(doc, finding.fix), lsp, finding.fix.safety === "safe"));
    for (const s of finding.suggestions ?? []) actions.push(action(fixTitle(s), doc, fixEdits(doc, s), lsp));
  }
  // Suppressions last, once per rule and line, after every real fix.
  const seen = new Set<string>();
  for (const { finding, lsp } of chosen) {
    const ruleId = finding.ruleId!;
    const lineKey = `${ruleId}@${lsp.range.start.line}`;
    if (!seen.has(lineKey)) {
      seen.add(lineKey);
      const edit = disableForLine(text, lsp.range.start.line, ruleId);
      if (edit) actions.push(action(`Disable ${ruleId} for this line`, doc, [lineEdit(edit)], lsp));
    }
    if (!seen.has(ruleId)) {
      seen.add(ruleId);
      const edit = disableForFile(text, ruleId);
      if (edit) actions.push(action(`Disable ${ruleId} for this file`, doc, [lineEdit(edit)], lsp));
    }
  }
  return actions;
}

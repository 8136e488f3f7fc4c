// The fixes and suggestions a finding carries become quick fixes (the CI issue's rules fill them in).
import { describe, expect, it } from "vitest";
import { TextDocument } from "vscode-languageserver-textdocument";
import { codeActionsFor } from "../../src/lsp/code-actions.js";
import { toLspDiagnostic } from "../../src/lsp/convert.js";
import { rangeFromIndices } from "../../src/model/source.js";
import type { Diagnostic } from "../../src/engine/diagnostic.js";

const text = ["class Net(nn.Module):", "    def forward(self, x):", "        x = self.bn(self.conv1(x))", "        x = self.bn(self.conv2(x))", ""].join("\n");
const uri = "file:///m.py";
const at = text.indexOf("self.bn(self.conv2");

function finding(extra: Partial<Diagnostic>): Diagnostic {
  return { ruleId: "reused-batchnorm", severity: 2, message: "reused", range: rangeFromIndices(text, at, at + 7), related: [], ...extra };
}

describe("code actions", () => {
  it("turn a finding's fix and suggestions into workspace edits, unsafe ones marked and not preferred", () => {
    const f = finding({
      fix: { title: "Give the second call its own BatchNorm2d(32)", safety: "unsafe", edits: [{ range: [at + 5, at + 7], text: "bn2" }] },
      suggestions: [{ title: "Rename to bn_b", safety: "safe", edits: [{ range: [at + 5, at + 7], text: "bn_b" }] }],
    });
    const doc = TextDocument.create(uri, "python", 1, text);
    const lsp = toLspDiagnostic(f, uri);
    const actions = codeActionsFor(doc, [{ finding: f, lsp }], lsp.range);
    expect(actions.map((a) => [a.title, a.isPreferred ?? false])).toEqual([
      ["Give the second call its own BatchNorm2d(32) (unsafe fix)", false],
      ["Rename to bn_b", false],
      ["Disable reused-batchnorm for this line", false],
      ["Disable reused-batchnorm for this file", false],
    ]);
    expect(TextDocument.applyEdits(doc, actions[0].edit!.changes![uri]).split("\n")[3]).toBe("        x = self.bn2(self.conv2(x))");
    expect(TextDocument.applyEdits(doc, actions[1].edit!.changes![uri]).split("\n")[3]).toBe("        x = self.bn_b(self.conv2(x))");
  });

  it("offer nothing for findings outside the range, or for parse errors", () => {
    const doc = TextDocument.create(uri, "python", 1, text);
    const f = finding({});
    const parse: Diagnostic = { ruleId: null, severity: 2, message: "Parsing error", range: rangeFromIndices(text, 0, 1), related: [], fatal: true };
    const items = [f, parse].map((d) => ({ finding: d, lsp: toLspDiagnostic(d, uri) }));
    expect(codeActionsFor(doc, items, { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } })).toEqual([]);
    expect(codeActionsFor(doc, items, { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } })).toHaveLength(0);
    expect(codeActionsFor(doc, items, { start: { line: 3, character: 14 }, end: { line: 3, character: 14 } })).toHaveLength(2);
  });
});

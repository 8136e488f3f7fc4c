// The language server as an editor sees it: `bnlint lsp --stdio` in a child process, driven by
// vscode-languageserver-protocol's client connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TextDocument } from "vscode-languageserver-textdocument";
import {
  CodeActionRequest, DiagnosticSeverity, DiagnosticTag, DidChangeConfigurationNotification, DidChangeWatchedFilesNotification,
  ExecuteCommandRequest, FileChangeType, HoverRequest, type CodeAction, type PublishDiagnosticsParams,
} from "vscode-languageserver-protocol/node";
import { readExpectations } from "../helpers/expectations.js";
import { startStdioClient, type TestClient } from "../helpers/lsp-client.js";

const SEED = new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;
const seedText = readFileSync(SEED, "utf8");
const seedUri = pathToFileURL(SEED).href;

/** `{ line: [rule ids] }` (1-based lines) of a publish, to compare with `# expect:` markers. */
function byLine(p: PublishDiagnosticsParams): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const d of p.diagnostics) (out[d.range.start.line + 1] ??= []).push(String(d.code ?? "fatal"));
  for (const k of Object.keys(out)) out[Number(k)].sort();
  return out;
}

function expectedByLine(text: string): Record<number, string[]> {
  return Object.fromEntries(readExpectations(text));
}

/** The seed with the reuse on line 49 fixed: a second BatchNorm2d(32) declared and called there. */
function seedWithFirstReuseFixed(): string {
  const lines = seedText.split("\n");
  lines.splice(31, 0, "        self.bn_6b = nn.BatchNorm2d(32)");
  lines[49] = "        x = self.bn_6b(x)";
  return lines.join("\n");
}

describe("bnlint lsp over stdio", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await startStdioClient({ initializationOptions: { debounceMs: 30 } });
  });
  afterAll(async () => {
    await client?.stop();
  });

  it("publishes the seed's findings on open, with rule ids, links, related locations and severities", async () => {
    client.open(seedUri, seedText);
    const p = await client.waitForDiagnostics(seedUri);
    expect(p.version).toBe(1);
    expect(byLine(p)).toEqual(expectedByLine(seedText));
    const reuse = p.diagnostics.find((d) => d.range.start.line === 48)!;
    expect(reuse).toMatchObject({ code: "reused-batchnorm", source: "bnlint", severity: DiagnosticSeverity.Error });
    expect(reuse.range).toEqual({ start: { line: 48, character: 12 }, end: { line: 48, character: 24 } });
    expect(reuse.message).toContain("`self.bn_6` (BatchNorm2d(32)) runs 2 times");
    expect(reuse.codeDescription?.href).toMatch(/README\.md#reused-batchnorm$/);
    expect(reuse.relatedInformation?.map((r) => [r.location.uri, r.location.range.start.line + 1, r.message])).toEqual([
      [seedUri, 47, "first call of `self.bn_6`"],
      [seedUri, 31, "`self.bn_6` is declared here"],
    ]);
    const unused = p.diagnostics.find((d) => d.code === "unused-batchnorm")!;
    expect(unused.severity).toBe(DiagnosticSeverity.Warning);
    expect(unused.tags).toEqual([DiagnosticTag.Unnecessary]);
  });

  it("re-lints on change: the fixed reuse disappears and the other findings move with their lines", async () => {
    const since = client.published.length;
    const fixed = seedWithFirstReuseFixed();
    client.change(seedUri, 2, fixed);
    const p = await client.waitForDiagnostics(seedUri, (x) => x.version === 2, since);
    expect(byLine(p)).toEqual({ 26: ["unused-batchnorm"], 28: ["unused-batchnorm"], 55: ["reused-batchnorm"], 60: ["reused-batchnorm"], 62: ["reused-batchnorm"], 66: ["batchnorm-on-logits"] });
  });

  it("a half-typed document replaces the findings with one parse note, and they come back when it parses", async () => {
    let since = client.published.length;
    const broken = seedText.replace("        x = self.bn_6(x)  # expect: [reused-batchnorm]", "        x = self.bn_6(");
    client.change(seedUri, 3, broken);
    const p = await client.waitForDiagnostics(seedUri, (x) => x.version === 3, since);
    expect(p.diagnostics).toHaveLength(1);
    expect(p.diagnostics[0]).toMatchObject({ severity: DiagnosticSeverity.Information, source: "bnlint" });
    expect(p.diagnostics[0].message).toMatch(/^Parsing error/);
    expect(p.diagnostics[0].code).toBeUndefined();

    // A half-written class at the end of the file.
    since = client.published.length;
    client.change(seedUri, 4, `${seedText}\nclass Half(nn.Module):\n    def __init__(self`);
    const q = await client.waitForDiagnostics(seedUri, (x) => x.version === 4, since);
    expect(q.diagnostics.map((d) => d.severity)).toEqual([DiagnosticSeverity.Information]);

    since = client.published.length;
    client.change(seedUri, 5, seedText);
    const r = await client.waitForDiagnostics(seedUri, (x) => x.version === 5, since);
    expect(byLine(r)).toEqual(expectedByLine(seedText));
  });

  it("after a burst of edits the last publish is for the last version and no older version is published after a newer one", async () => {
    const since = client.published.length;
    const variants = [seedWithFirstReuseFixed(), seedText, seedText.replace("x = self.bn_6(x)", "x = self.bn_6(")];
    for (let v = 6; v < 26; v++) client.change(seedUri, v, variants[v % 3]);
    client.change(seedUri, 26, seedWithFirstReuseFixed());
    const last = await client.waitForDiagnostics(seedUri, (x) => x.version === 26, since);
    expect(Object.keys(byLine(last)).map(Number)).toEqual([26, 28, 55, 60, 62, 66]);
    const versions = client.published.slice(since).filter((x) => x.uri === seedUri).map((x) => x.version!);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    // Let any late timer fire: nothing may follow the last version.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.published.slice(since).filter((x) => x.uri === seedUri).at(-1)?.version).toBe(26);
    client.change(seedUri, 27, seedText);
    await client.waitForDiagnostics(seedUri, (x) => x.version === 27, since);
  });

  it("offers disable-for-line and disable-for-file quick fixes whose edits insert the suppression comments", async () => {
    const doc = TextDocument.create(seedUri, "python", 27, seedText);
    const pub = client.published.filter((x) => x.uri === seedUri).at(-1)!;
    const reuse = pub.diagnostics.find((d) => d.range.start.line === 48)!;
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: seedUri },
      range: reuse.range,
      context: { diagnostics: [reuse] },
    })) as CodeAction[];
    // The rule's own fix and suggestions come first (checked in code-actions tests); the disable actions last.
    const titles = actions.map((a) => a.title);
    expect(titles.slice(-2)).toEqual(["Disable reused-batchnorm for this line", "Disable reused-batchnorm for this file"]);
    expect(titles[0]).toMatch(/^Give /);
    actions.splice(0, actions.length - 2);
    expect(actions.every((a) => a.kind === "quickfix" && a.diagnostics?.[0].code === "reused-batchnorm")).toBe(true);
    const apply = (a: CodeAction) => TextDocument.applyEdits(doc, a.edit!.changes![seedUri]).split("\n");
    expect(apply(actions[0])[48]).toBe("        x = self.bn_6(x)  # expect: [reused-batchnorm]  # bnlint: disable=reused-batchnorm");
    const withFileComment = apply(actions[1]);
    expect(withFileComment[0]).toBe("# bnlint: disable-file=reused-batchnorm");
    expect(withFileComment.slice(1)).toEqual(seedText.split("\n"));
  });

  it("hovers a BatchNorm call with its declaration and call sites", async () => {
    const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: seedUri }, position: { line: 48, character: 20 } });
    const value = (hover?.contents as { value: string }).value;
    expect(value).toContain("**`self.bn_6`** · `BatchNorm2d(32)` · declared at line 31");
    expect(value).toContain("- `Keras_Cifar2`: 2 times (lines 47, 49)");
    expect(hover?.range).toEqual({ start: { line: 48, character: 12 }, end: { line: 48, character: 21 } });
    const onDeclaration = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: seedUri }, position: { line: 25, character: 12 } });
    expect((onDeclaration?.contents as { value: string }).value).toContain("No call in a forward pass that bnlint could follow.");
    const elsewhere = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: seedUri }, position: { line: 45, character: 20 } });
    expect(elsewhere).toBeNull();
  });

  it("applies rule settings pushed by the client and re-lints open documents", async () => {
    let since = client.published.length;
    await client.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { bnlint: { rules: { "unused-batchnorm": "off", "reused-batchnorm": "warn" } } } });
    const p = await client.waitForDiagnostics(seedUri, () => true, since);
    expect(p.diagnostics.some((d) => d.code === "unused-batchnorm")).toBe(false);
    expect(p.diagnostics.filter((d) => d.code === "reused-batchnorm").map((d) => d.severity)).toEqual([2, 2, 2, 2]);
    since = client.published.length;
    await client.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { bnlint: { rules: {} } } });
    const q = await client.waitForDiagnostics(seedUri, () => true, since);
    expect(byLine(q)).toEqual(expectedByLine(seedText));
  });

  it("re-lints open documents when a watched configuration file changes", async () => {
    const since = client.published.length;
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL("/tmp/pyproject.toml").href, type: FileChangeType.Changed }] });
    const p = await client.waitForDiagnostics(seedUri, () => true, since);
    expect(byLine(p)).toEqual(expectedByLine(seedText));
  });

  it("lints only Python documents, and clears a document's diagnostics when it closes", async () => {
    const since = client.published.length;
    const txtUri = "file:///tmp/notes.txt";
    client.open(txtUri, seedText, "plaintext");
    const otherUri = "file:///tmp/other_model.py";
    client.open(otherUri, seedText);
    await client.waitForDiagnostics(otherUri, (x) => x.diagnostics.length > 0, since);
    expect(client.published.slice(since).some((x) => x.uri === txtUri)).toBe(false);
    client.close(otherUri);
    await client.waitForDiagnostics(otherUri, (x) => x.diagnostics.length === 0, since);
  });
});

describe("bnlint lsp workspace command", () => {
  it("lints the workspace folder's files that are not open, on request only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bnlint-ws-"));
    try {
      writeFileSync(join(dir, "bad.py"), seedText);
      writeFileSync(join(dir, "clean.py"), "import torch\nx = torch.zeros(1)\n");
      writeFileSync(join(dir, "open.py"), seedText);
      const client = await startStdioClient({ workspaceFolders: [{ uri: pathToFileURL(dir).href, name: "ws" }] });
      try {
        const openUri = pathToFileURL(join(dir, "open.py")).href;
        client.open(openUri, "import torch\n");
        await client.waitForDiagnostics(openUri);
        // Nothing on disk is published before the command.
        expect(client.published.map((p) => p.uri)).toEqual([openUri]);
        const summary = await client.connection.sendRequest(ExecuteCommandRequest.type, { command: "bnlint.lintWorkspace", arguments: [] });
        expect(summary).toEqual({ files: 2, problems: 7 });
        const bad = client.published.find((p) => p.uri === pathToFileURL(join(dir, "bad.py")).href)!;
        expect(byLine(bad)).toEqual(expectedByLine(seedText));
        expect(client.published.find((p) => p.uri === pathToFileURL(join(dir, "clean.py")).href)?.diagnostics).toEqual([]);
        // The open document keeps its live (empty) diagnostics, not the disk version's.
        expect(client.published.filter((p) => p.uri === openUri)).toHaveLength(1);
      } finally {
        await client.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("bnlint lsp configuration files", () => {
  it("honours the nearest bnlint.toml, skips excluded files, and re-reads it when a watched file changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bnlint-cfg-"));
    const client = await startStdioClient({ initializationOptions: { debounceMs: 0 } });
    try {
      writeFileSync(join(dir, "bnlint.toml"), 'rules = { "unused-batchnorm" = "off", "reused-batchnorm" = "warn" }\nexclude = ["legacy_*.py"]\n');
      const modelUri = pathToFileURL(join(dir, "model.py")).href;
      const legacyUri = pathToFileURL(join(dir, "legacy_model.py")).href;
      client.open(modelUri, seedText);
      client.open(legacyUri, seedText);
      const p = await client.waitForDiagnostics(modelUri);
      expect(p.diagnostics.some((d) => d.code === "unused-batchnorm")).toBe(false);
      expect(p.diagnostics.filter((d) => d.code === "reused-batchnorm").map((d) => d.severity)).toEqual([2, 2, 2, 2]);
      expect((await client.waitForDiagnostics(legacyUri)).diagnostics).toEqual([]);

      // The editor's own rule settings win over the file, as --rule does on the command line.
      let since = client.published.length;
      await client.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { bnlint: { rules: { "unused-batchnorm": "error" } } } });
      const q = await client.waitForDiagnostics(modelUri, () => true, since);
      expect(q.diagnostics.filter((d) => d.code === "unused-batchnorm").map((d) => d.severity)).toEqual([1, 1]);

      since = client.published.length;
      writeFileSync(join(dir, "bnlint.toml"), "exclude = []\n");
      await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(join(dir, "bnlint.toml")).href, type: FileChangeType.Changed }] });
      const r = await client.waitForDiagnostics(legacyUri, (x) => x.diagnostics.length > 0, since);
      expect(r.diagnostics.filter((d) => d.code === "reused-batchnorm").map((d) => d.severity)).toEqual([1, 1, 1, 1]);
    } finally {
      await client.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

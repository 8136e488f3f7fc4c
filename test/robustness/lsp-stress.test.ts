// `bnlint lsp --stdio` under 10,000 random edits, opens and closes, and invalid requests: it keeps answering
// correctly and its memory stays flat.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import {
  ExecuteCommandRequest, DidChangeTextDocumentNotification, DidOpenTextDocumentNotification, HoverRequest, ErrorCodes, ResponseError,
} from "vscode-languageserver-protocol/node";
import { startStdioClient } from "../helpers/lsp-client.js";
import { lintText } from "../../src/index.js";

const SEED = new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;
const EDITS = Number(process.env.BNLINT_STRESS_EDITS ?? 10_000);
const FIRST_MEASURE = 1_000;

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.match(/\d+/)?.[0]);
}

/** A text edit in LSP terms: replace [start, end) (as offsets of `text`) by `insert`. */
interface Edit {
  start: number;
  end: number;
  insert: string;
}

const SNIPPETS = ["x = self.bn_6(x)\n", "(", ")", ":", "\n    ", "nn.BatchNorm2d(32)", "'", '"""', "\t", "é", "🙂", "", "#", "self.", "\r\n"];

/** An LSP position cannot point between the \r and \n of a line break: editors step over the pair. */
function notInsideCrlf(text: string, offset: number): number {
  return text[offset - 1] === "\r" && text[offset] === "\n" ? offset - 1 : offset;
}

/** Seeded edits, as an editor sends them: small replacements at random places. */
function editsFor(seed: number, count: number): ((text: string) => Edit)[] {
  const picks = fc.sample(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat({ max: 12 }), fc.constantFrom(...SNIPPETS)), { seed, numRuns: count });
  return picks.map(([at, del, insert]) => (text) => {
    const start = notInsideCrlf(text, Math.min(text.length, Math.floor(at * text.length)));
    return { start, end: Math.max(start, notInsideCrlf(text, Math.min(text.length, start + del))), insert };
  });
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  return { line: before.length - 1, character: before.at(-1)!.length };
}

describe("bnlint lsp under stress", () => {
  it("answers correctly after 10,000 random edits, opens, closes and invalid requests; RSS stays flat", async () => {
    const client = await startStdioClient({ initializationOptions: { debounceMs: 1 }, nodeFlags: ["--expose-gc"] });
    // Live heap after a full collection: what a leak would grow. RSS also counts heap V8 reserved and keeps.
    const liveHeap = async () => ((await client.connection.sendRequest(ExecuteCommandRequest.type, { command: "bnlint.memoryUsage" })) as { heapUsed: number; afterGc: boolean });
    const pid = client.child.pid!;
    const seedText = readFileSync(SEED, "utf8");
    const uri = pathToFileURL("/tmp/bnlint-stress/model.py").href;
    let text = seedText;
    let version = 1;
    client.open(uri, text);
    await client.waitForDiagnostics(uri);
    const edits = editsFor(42, EDITS);
    let rssAtFirst = 0;
    let heapAtFirst = 0;
    let invalidAnswered = 0;
    try {
      for (let i = 0; i < EDITS; i++) {
        const edit = edits[i](text);
        const range = { start: positionAt(text, edit.start), end: positionAt(text, edit.end) };
        text = text.slice(0, edit.start) + edit.insert + text.slice(edit.end);
        // Keep the document a model file's size: now and then the editor reverts it.
        if (text.length > 2 * seedText.length || text.length < seedText.length / 2) {
          text = seedText;
          client.change(uri, ++version, text);
        } else {
          void client.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ range, text: edit.insert }] });
        }
        if (i % 500 === 250) {
          // Other documents come and go, some with content the server has never seen.
          const other = `${uri}.${i}.py`;
          client.open(other, i % 1000 === 250 ? "\0\uD800 garbage ((" : seedText);
          client.close(other);
          // Invalid traffic: an unknown method, malformed params, a change to a document that is not open.
          await expect(client.connection.sendRequest("bnlint/noSuchMethod", {})).rejects.toSatisfy((e: ResponseError<unknown>) => e.code === ErrorCodes.MethodNotFound);
          await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: 42 }, position: null } as never).catch(() => undefined);
          await client.connection.sendRequest("textDocument/codeAction", { textDocument: { uri } }).catch(() => undefined);
          void client.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: other } } as never);
          void client.connection.sendNotification("textDocument/didChange", { textDocument: { uri: `${other}.closed`, version: 1 }, contentChanges: [{ text: "x" }] });
          invalidAnswered++;
        }
        // Let the server lint now and then, as it does between an editor's keystrokes.
        if (i % 100 === 99) await client.waitForDiagnostics(uri, (p) => p.version === version, 0, 30_000);
        if (i + 1 === FIRST_MEASURE) {
          await client.waitForDiagnostics(uri, (p) => p.version === version, 0, 30_000);
          rssAtFirst = rssKb(pid);
          heapAtFirst = (await liveHeap()).heapUsed;
        }
      }
      await client.waitForDiagnostics(uri, (p) => p.version === version, 0, 30_000);
      const rssAtEnd = rssKb(pid);
      const heapAtEnd = await liveHeap();
      expect(invalidAnswered).toBe(EDITS / 500);
      expect(heapAtEnd.afterGc).toBe(true);
      expect(heapAtEnd.heapUsed).toBeLessThanOrEqual(heapAtFirst * 1.25);
      expect(rssAtEnd).toBeLessThanOrEqual(rssAtFirst * 1.5);
      console.log(`server live heap after GC: ${(heapAtFirst / 1048576).toFixed(1)} MB after ${FIRST_MEASURE} edits, ${(heapAtEnd.heapUsed / 1048576).toFixed(1)} MB after ${EDITS} (${(heapAtEnd.heapUsed / heapAtFirst).toFixed(2)}x); RSS ${rssAtFirst} kB, ${rssAtEnd} kB (${(rssAtEnd / rssAtFirst).toFixed(2)}x)`);

      // The final text gets exactly the findings the library reports for it.
      const expected = (await lintText(text, "/tmp/bnlint-stress/model.py")).messages.filter((m) => !m.fatal || !m.message.startsWith("Internal error"));
      const last = await client.waitForDiagnostics(uri, (p) => p.version === version, 0, 30_000);
      console.log(`final text: ${text.length} chars, ${last.diagnostics.length} findings (${[...new Set(last.diagnostics.map((d) => d.code))].join(", ")}); publishes with findings: ${client.published.filter((p) => p.uri === uri && p.diagnostics.length > 0).length}/${client.published.length}; logs: ${client.logs.length}`);
      expect(last.diagnostics.map((d) => [d.code ?? null, d.range.start.line + 1])).toEqual(expected.map((m) => [m.ruleId, m.range.start.line]));

      // And a known text gets its known findings and a hover.
      client.change(uri, ++version, seedText);
      const seeded = await client.waitForDiagnostics(uri, (p) => p.version === version, 0, 30_000);
      expect([...new Set(seeded.diagnostics.map((d) => d.code))].sort()).toEqual(["batchnorm-on-logits", "reused-batchnorm", "unused-batchnorm"]);
      const bnLine = seedText.split("\n").findIndex((l) => l.includes("self.bn_6 = nn.BatchNorm2d(32)"));
      const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: bnLine, character: 14 } });
      expect(JSON.stringify(hover?.contents)).toContain("BatchNorm2d(32)");
    } finally {
      await client.stop();
    }
  }, 90_000);
});

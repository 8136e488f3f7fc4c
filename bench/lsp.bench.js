// Language server: latency from didChange to publishDiagnostics on a generated 2,000-line model file, and the
// server's memory over many edits. Baseline: lintText on the same text in this process (what the server must do
// anyway), sampled every 10th edit, so the ratio is the server's own overhead. Set BENCH_LSP_EDITS to change the edit count (default 1000).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, InitializeRequest, InitializedNotification,
  PublishDiagnosticsNotification, DidOpenTextDocumentNotification, DidChangeTextDocumentNotification, ShutdownRequest, ExitNotification, ExecuteCommandRequest,
} from "vscode-languageserver-protocol/node";
import { lintText } from "../dist/src/engine/linter.js";
import { generateModelFile } from "./model-source.js";

const BIN = fileURLToPath(new URL("../bin/bnlint.js", import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

function rssMB(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
    return kb / 1024;
  } catch {
    return NaN; // not Linux: no /proc
  }
}

/** A small real edit within one line (a comment after a statement), so every version parses and has the same finding. */
function edit(text, i) {
  return text.replace("identity = x\n", `identity = x  # edit ${i}\n`);
}

export default async function (log) {
  const text = generateModelFile(2000);
  const edits = Number(process.env.BENCH_LSP_EDITS ?? 1000);

  // Baseline: the lint itself, warm, sampled between the server's edits so both see the same machine load.
  for (let i = 0; i < 5; i++) await lintText(edit(text, i), "/bench/model.py");
  const base = [];
  const sampleBaseline = async (i) => {
    const t = performance.now();
    await lintText(edit(text, i), "/bench/model.py");
    base.push(performance.now() - t);
  };

  // --expose-gc: the bnlint.memoryUsage command then reports the live heap after a full collection.
  const child = spawn(process.execPath, ["--expose-gc", BIN, "lsp", "--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  let waiting;
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => waiting?.(p));
  conn.listen();
  await conn.sendRequest(InitializeRequest.type, { processId: null, rootUri: null, capabilities: {}, initializationOptions: { debounceMs: 0 } });
  await conn.sendNotification(InitializedNotification.type, {});
  const uri = "file:///bench/model.py";
  const published = (version) => new Promise((resolve) => (waiting = (p) => p.version === version && resolve(p)));

  let done = published(1);
  await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "python", version: 1, text } });
  const first = await done;
  let version = 1;
  const change = async (i) => {
    version++;
    const wait = published(version);
    const t = performance.now();
    await conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text: edit(text, i) }] });
    const p = await wait;
    if (p.diagnostics.length !== first.diagnostics.length) throw new Error("an edit changed the findings");
    return performance.now() - t;
  };

  for (let i = 0; i < 20; i++) await change(i); // warm-up
  const latencies = [];
  let rssAfterWarmup = rssMB(child.pid);
  const liveHeapMB = async () => (await conn.sendRequest(ExecuteCommandRequest.type, { command: "bnlint.memoryUsage" })).heapUsed / 1048576;
  let heapAfterWarmup = NaN;
  for (let i = 0; i < edits; i++) {
    latencies.push(await change(i));
    if (i % 10 === 0) await sampleBaseline(i);
    if (i === 99) {
      rssAfterWarmup = rssMB(child.pid);
      heapAfterWarmup = await liveHeapMB();
    }
  }
  const rssEnd = rssMB(child.pid);
  const heapEnd = await liveHeapMB();
  // Edits that add or remove a line move every finding below them: these re-lint every unit of the file.
  const lineEdits = [];
  const withLines = (i) => text.replace("identity = x\n", `identity = x\n${"\n".repeat(1 + (i % 2))}`);
  for (let i = 0; i < 30; i++) {
    version++;
    const wait = published(version);
    const t = performance.now();
    await conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text: withLines(i) }] });
    await wait;
    lineEdits.push(performance.now() - t);
  }

  await conn.sendRequest(ShutdownRequest.type);
  await conn.sendNotification(ExitNotification.type);
  conn.dispose();

  const lines = text.split("\n").length;
  log(`file: ${lines} lines, ${first.diagnostics.length} finding(s); ${edits} edits after 20 warm-up edits`);
  log(`lintText alone (baseline): median ${median(base).toFixed(1)} ms`);
  log(`didChange -> publishDiagnostics: median ${median(latencies).toFixed(1)} ms, p90 ${pct(latencies, 0.9).toFixed(1)} ms` +
    ` = ${(median(latencies) / median(base)).toFixed(2)}x the baseline median (target: 20 ms median)`);
  log(`edits that add or remove a line: median ${median(lineEdits).toFixed(1)} ms = ${(median(lineEdits) / median(base)).toFixed(2)}x the baseline median`);
  log(`server live heap after GC: ${heapAfterWarmup.toFixed(1)} MB after 100 edits, ${heapEnd.toFixed(1)} MB after ${edits} edits = ${(heapEnd / heapAfterWarmup).toFixed(2)}x`);
  log(`server RSS after 100 edits ${rssAfterWarmup.toFixed(0)} MB, after ${edits} edits ${rssEnd.toFixed(0)} MB` +
    ` = ${(rssEnd / rssAfterWarmup).toFixed(2)}x`);
}

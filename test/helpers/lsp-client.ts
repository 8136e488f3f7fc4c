/**
 * A language client for tests, built on vscode-languageserver-protocol's own client connection: talks JSON-RPC to
 * `bnlint lsp` over stdio (a real child process) or to an in-process server over in-memory streams.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, InitializeRequest, InitializedNotification,
  PublishDiagnosticsNotification, LogMessageNotification, DidOpenTextDocumentNotification, DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification, ShutdownRequest, ExitNotification,
  type ProtocolConnection, type PublishDiagnosticsParams, type ClientCapabilities, type WorkspaceFolder,
} from "vscode-languageserver-protocol/node";

export const BNLINT_BIN = fileURLToPath(new URL("../../bin/bnlint.js", import.meta.url));

export interface TestClient {
  connection: ProtocolConnection;
  /** Every publishDiagnostics received, in order. */
  published: PublishDiagnosticsParams[];
  logs: string[];
  open(uri: string, text: string, languageId?: string): void;
  /** Replaces the whole text (a full-document change). */
  change(uri: string, version: number, text: string): void;
  close(uri: string): void;
  /** The first publish for `uri`, after the `since`-th publish overall, that satisfies `accept`. */
  waitForDiagnostics(uri: string, accept?: (p: PublishDiagnosticsParams) => boolean, since?: number, timeoutMs?: number): Promise<PublishDiagnosticsParams>;
  stop(): Promise<void>;
}

interface StartOptions {
  initializationOptions?: unknown;
  workspaceFolders?: WorkspaceFolder[];
  capabilities?: ClientCapabilities;
  /** Flags for node before the server's script (e.g. `--expose-gc`, so `bnlint.memoryUsage` collects first). */
  nodeFlags?: string[];
}

function makeClient(connection: ProtocolConnection, onStop: () => Promise<void>): TestClient {
  const published: PublishDiagnosticsParams[] = [];
  const logs: string[] = [];
  const waiters = new Set<() => void>();
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.push(p);
    for (const w of [...waiters]) w();
  });
  connection.onNotification(LogMessageNotification.type, (p) => logs.push(p.message));
  connection.listen();
  return {
    connection,
    published,
    logs,
    open(uri, text, languageId = "python") {
      void connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text } });
    },
    change(uri, version, text) {
      void connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
    },
    close(uri) {
      void connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    },
    waitForDiagnostics(uri, accept = () => true, since = 0, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = published.slice(since).find((p) => p.uri === uri && accept(p));
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms; got ${JSON.stringify(published.slice(since).map((p) => [p.uri, p.version, p.diagnostics.length]))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: onStop,
  };
}

async function initialize(client: TestClient, options: StartOptions): Promise<void> {
  await client.connection.sendRequest(InitializeRequest.type, {
    processId: null,
    rootUri: options.workspaceFolders?.[0]?.uri ?? null,
    workspaceFolders: options.workspaceFolders ?? null,
    capabilities: options.capabilities ?? {},
    initializationOptions: options.initializationOptions,
  });
  await client.connection.sendNotification(InitializedNotification.type, {});
}

/** Spawns `node bin/bnlint.js lsp --stdio` and initializes it. */
export async function startStdioClient(options: StartOptions = {}): Promise<TestClient & { child: ChildProcess }> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), BNLINT_BIN, "lsp", "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const client = makeClient(connection, async () => {
    await connection.sendRequest(ShutdownRequest.type);
    await connection.sendNotification(ExitNotification.type);
    const code = await exited;
    connection.dispose();
    if (code !== 0) throw new Error(`server exited with ${code}: ${stderr}`);
  });
  await initialize(client, options);
  return Object.assign(client, { child });
}

/** Runs `start(reader, writer)` (an in-process server) and connects a client to it over in-memory streams. */
export async function startInProcessClient(
  start: (reader: StreamMessageReader, writer: StreamMessageWriter) => { dispose(): void },
  options: StartOptions = {},
): Promise<TestClient> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = start(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  const connection = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const client = makeClient(connection, async () => {
    await connection.sendRequest(ShutdownRequest.type);
    connection.dispose();
    server.dispose();
  });
  await initialize(client, options);
  return client;
}

/**
 * The bnlint language server: lints open Python documents on open and (debounced) on change, publishes the
 * findings with related locations and rule links, offers quick fixes and hovers. Transport-agnostic: `main.ts`
 * connects it to stdio, tests to in-memory streams.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CodeActionKind, DidChangeConfigurationNotification, DidChangeWatchedFilesNotification, TextDocuments, TextDocumentSyncKind,
  type Connection, type InitializeResult,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { lintFile, type LintOptions } from "../engine/linter.js";
import { IncrementalLinter } from "../engine/incremental.js";
import { ConfigResolver } from "../config/discover.js";
import { rules as allRules } from "../../rules/index.js";
import type { LintResult } from "../engine/diagnostic.js";
import type { Rule } from "../rule.js";
import { collectFiles, LINTED_EXTENSIONS } from "../cli/files.js";
import { VERSION } from "../version.js";
import { isInternalError, toLspDiagnostic } from "./convert.js";
import { codeActionsFor, type PublishedFinding } from "./code-actions.js";
import { collectBatchNorms, hoverAt, type BatchNormInfo } from "./hover.js";
import { CONFIG_FILE_GLOBS, DEFAULT_SETTINGS, lintOptionsFrom, parseSettings, type ServerSettings } from "./settings.js";

export const LINT_WORKSPACE_COMMAND = "bnlint.lintWorkspace";
/** Reports the server's memory (after a full garbage collection when node runs with --expose-gc), as rust-analyzer's memoryUsage does. */
export const MEMORY_USAGE_COMMAND = "bnlint.memoryUsage";

export interface ServerOptions {
  /** Rules to run instead of every rule (tests use it to add a rule that crashes). */
  ruleSet?: readonly Rule[];
}

function filePathOf(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : `<${uri}>`;
}

function isPythonDocument(doc: TextDocument): boolean {
  return doc.languageId === "python" || LINTED_EXTENSIONS.some((ext) => doc.uri.endsWith(ext));
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const documents = new TextDocuments(TextDocument);
  let settings: ServerSettings = DEFAULT_SETTINGS;
  let pullsConfiguration = false;
  let workspaceFolders: string[] = [];
  /** Findings last published per open document, with the version they were computed from. */
  const published = new Map<string, { version: number; findings: PublishedFinding[] }>();
  const hoverCache = new Map<string, { version: number; infos: Promise<BatchNormInfo[]> }>();
  const pending = new Map<string, NodeJS.Timeout>();
  /** One incremental linter per open document, made for the options it was linted with. */
  const linters = new Map<string, { optionsKey: string; linter: IncrementalLinter }>();
  const ruleIds = allRules.map((r) => r.meta.id);
  let configs = new ConfigResolver(new Set(ruleIds));
  const reportedConfigErrors = new Set<string>();
  /** Files on disk linted by the workspace command (not open): their diagnostics stay after close. */
  const diskLinted = new Set<string>();

  const log = (message: string) => connection.console.error(`bnlint: ${message}`);

  function applySettings(raw: unknown): void {
    const parsed = parseSettings(raw);
    settings = parsed.settings;
    for (const p of parsed.problems) log(p);
  }

  async function refreshSettings(): Promise<void> {
    if (!pullsConfiguration) return;
    try {
      applySettings(await connection.workspace.getConfiguration("bnlint"));
    } catch (e) {
      log(`cannot read settings: ${(e as Error).message}`);
    }
  }

  function toFindings(uri: string, result: LintResult): PublishedFinding[] {
    const out: PublishedFinding[] = [];
    for (const finding of result.messages) {
      // A crashed rule is a bug to report, not a finding: log it, publish the other rules' findings.
      if (isInternalError(finding)) log(`${filePathOf(uri)}: ${finding.message}`);
      else out.push({ finding, lsp: toLspDiagnostic(finding, uri) });
    }
    return out;
  }

  /**
   * Options for one file: its configuration file (found as the CLI finds it), with the editor's rule settings
   * over it. Undefined when the configuration excludes the file. A broken configuration is logged once and
   * ignored, so the editor keeps linting with the defaults.
   */
  async function optionsFor(uri: string): Promise<LintOptions | undefined> {
    const editorRules = lintOptionsFrom(settings).rules ?? {};
    if (!uri.startsWith("file:")) return { rules: editorRules, ruleSet: options.ruleSet };
    const path = fileURLToPath(uri);
    try {
      const config = await configs.forFile(path);
      if (!config) return { rules: editorRules, ruleSet: options.ruleSet };
      const apply = await import("../config/apply.js");
      if (apply.isExcluded(config, path)) return undefined;
      return { ...apply.optionsForFile(config, path, {}, editorRules, ruleIds), ruleSet: options.ruleSet };
    } catch (e) {
      const message = (e as Error).message;
      if (!reportedConfigErrors.has(message)) log(`configuration ignored: ${message}`);
      reportedConfigErrors.add(message);
      return { rules: editorRules, ruleSet: options.ruleSet };
    }
  }

  function linterFor(uri: string, lintOptions: LintOptions): IncrementalLinter {
    const { ruleSet: _, ...rest } = lintOptions;
    const optionsKey = JSON.stringify(rest);
    const known = linters.get(uri);
    if (known?.optionsKey === optionsKey) return known.linter;
    known?.linter.dispose();
    const linter = new IncrementalLinter(filePathOf(uri), lintOptions);
    linters.set(uri, { optionsKey, linter });
    return linter;
  }

  async function lint(text: string, uri: string): Promise<PublishedFinding[]> {
    try {
      const lintOptions = await optionsFor(uri);
      if (!lintOptions) return [];
      // Each version re-lints only the classes an edit can affect (engine/incremental.ts).
      const result = await linterFor(uri, lintOptions).lint(text);
      return toFindings(uri, result);
    } catch (e) {
      // Never crash, never keep stale findings: log and publish nothing for this version.
      log(`internal error while linting ${filePathOf(uri)}: ${(e as Error).stack ?? e}`);
      return [];
    }
  }

  async function lintDocument(uri: string): Promise<void> {
    pending.delete(uri);
    const doc = documents.get(uri);
    if (!doc || !isPythonDocument(doc)) return;
    const version = doc.version;
    const text: unknown = doc.getText();
    // A client that opened a document without its text (a malformed didOpen): nothing to lint, nothing to publish.
    if (typeof text !== "string") {
      log(`${filePathOf(uri)}: the client sent no text for this document; not linted`);
      return;
    }
    const findings = await lint(text, uri);
    // A newer version arrived while linting: its own lint is scheduled, so this result is already stale.
    if (documents.get(uri)?.version !== version) return;
    published.set(uri, { version, findings });
    await connection.sendDiagnostics({ uri, version, diagnostics: findings.map((f) => f.lsp) });
  }

  function schedule(uri: string, delay: number): void {
    clearTimeout(pending.get(uri));
    // Even without a delay, a timer: changes that arrive together are linted once, as the last one.
    pending.set(uri, setTimeout(() => void lintDocument(uri), Math.max(0, delay)));
  }

  function relintOpenDocuments(): void {
    for (const doc of documents.all()) schedule(doc.uri, 0);
  }

  async function publishFromDisk(path: string): Promise<number> {
    const uri = pathToFileURL(path).href;
    const lintOptions = await optionsFor(uri);
    if (!lintOptions) return 0;
    const result = await lintFile(path, lintOptions);
    const findings = toFindings(uri, result);
    diskLinted.add(uri);
    await connection.sendDiagnostics({ uri, diagnostics: findings.map((f) => f.lsp) });
    return findings.length;
  }

  /** Lints the files of the workspace folders (or the given paths) that are not open; open ones are live already. */
  async function lintWorkspace(paths: string[]): Promise<{ files: number; problems: number }> {
    const open = new Set(documents.all().map((d) => d.uri));
    let files = 0;
    let problems = 0;
    for (const entry of await collectFiles(paths.length > 0 ? paths : workspaceFolders)) {
      if (entry.error || open.has(pathToFileURL(entry.path).href)) continue;
      files++;
      problems += await publishFromDisk(entry.path);
    }
    return { files, problems };
  }

  connection.onInitialize((params): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as Record<string, unknown>;
    applySettings(init.settings ?? init);
    pullsConfiguration = params.capabilities.workspace?.configuration === true;
    const folders = params.workspaceFolders ?? (params.rootUri ? [{ uri: params.rootUri, name: "root" }] : []);
    workspaceFolders = folders.filter((f) => f.uri.startsWith("file:")).map((f) => fileURLToPath(f.uri));
    const dynamicWatch = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    const dynamicConfig = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    connection.onInitialized(async () => {
      if (dynamicConfig) await connection.client.register(DidChangeConfigurationNotification.type, { section: "bnlint" });
      if (dynamicWatch) await connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: CONFIG_FILE_GLOBS.map((globPattern) => ({ globPattern })) });
      if (params.capabilities.workspace?.workspaceFolders) {
        connection.workspace.onDidChangeWorkspaceFolders((e) => {
          const removed = new Set(e.removed.map((f) => f.uri));
          const kept = folders.filter((f) => !removed.has(f.uri));
          folders.splice(0, folders.length, ...kept, ...e.added);
          workspaceFolders = folders.filter((f) => f.uri.startsWith("file:")).map((f) => fileURLToPath(f.uri));
        });
      }
      await refreshSettings();
      relintOpenDocuments();
    });
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        hoverProvider: true,
        executeCommandProvider: { commands: [LINT_WORKSPACE_COMMAND, MEMORY_USAGE_COMMAND] },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: "bnlint", version: VERSION },
    };
  });

  connection.onDidChangeConfiguration(async (change) => {
    if (pullsConfiguration) await refreshSettings();
    else applySettings((change.settings as Record<string, unknown> | undefined)?.bnlint);
    relintOpenDocuments();
  });

  // A configuration file changed on disk: forget the configurations read so far, re-lint with the new ones.
  connection.onDidChangeWatchedFiles(() => {
    configs = new ConfigResolver(new Set(ruleIds));
    reportedConfigErrors.clear();
    relintOpenDocuments();
  });

  // Fires on open too: a newly opened document is linted at once, edits after the typing pauses.
  const opened = new Set<string>();
  documents.onDidChangeContent((e) => {
    const uri = e.document.uri;
    const first = !opened.has(uri);
    opened.add(uri);
    schedule(uri, first ? 0 : settings.debounceMs);
  });
  documents.onDidClose((e) => {
    const uri = e.document.uri;
    opened.delete(uri);
    clearTimeout(pending.get(uri));
    pending.delete(uri);
    published.delete(uri);
    hoverCache.delete(uri);
    linters.get(uri)?.linter.dispose();
    linters.delete(uri);
    if (diskLinted.has(uri) && uri.startsWith("file:")) void publishFromDisk(fileURLToPath(uri)).catch((err) => log(String(err)));
    else void connection.sendDiagnostics({ uri, diagnostics: [] });
  });

  connection.onCodeAction((params) => {
    const doc = documents.get(params.textDocument.uri);
    const current = published.get(params.textDocument.uri);
    // Fixes are offsets into the linted text: offer none until the current version is linted.
    if (!doc || !current || current.version !== doc.version) return [];
    if (params.context.only && !params.context.only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`))) return [];
    return codeActionsFor(doc, current.findings, params.range, params.context.diagnostics.filter((d) => d.source === "bnlint"));
  });

  connection.onHover(async (params) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc || !isPythonDocument(doc)) return null;
    let cached = hoverCache.get(doc.uri);
    if (!cached || cached.version !== doc.version) {
      cached = { version: doc.version, infos: collectBatchNorms(doc.getText(), filePathOf(doc.uri)) };
      hoverCache.set(doc.uri, cached);
    }
    try {
      return hoverAt(await cached.infos, doc.offsetAt(params.position)) ?? null;
    } catch (e) {
      log(`hover failed: ${(e as Error).message}`);
      return null;
    }
  });

  connection.onExecuteCommand(async (params) => {
    if (params.command === MEMORY_USAGE_COMMAND) {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      return { rss, heapUsed, heapTotal, external, afterGc: gc !== undefined, openDocuments: documents.all().length };
    }
    if (params.command !== LINT_WORKSPACE_COMMAND) return null;
    const paths = (params.arguments ?? []).filter((a): a is string => typeof a === "string");
    return lintWorkspace(paths);
  });

  connection.onShutdown(() => {
    for (const t of pending.values()) clearTimeout(t);
    pending.clear();
  });

  documents.listen(connection);
  connection.listen();
}

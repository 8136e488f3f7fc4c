// A thin client: starts `bnlint lsp --stdio` and lets vscode-languageclient do the rest (diagnostics, quick
// fixes, hover, the workspace command). All analysis lives in the bnlint package.
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

/** `bnlint.path`, else the workspace's own install, else whatever `bnlint` is on PATH. */
function bnlintExecutable(): string {
  const configured = vscode.workspace.getConfiguration("bnlint").get<string>("path");
  if (configured) return configured;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const local = join(folder.uri.fsPath, "node_modules", ".bin", process.platform === "win32" ? "bnlint.cmd" : "bnlint");
    if (existsSync(local)) return local;
  }
  return "bnlint";
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const command = bnlintExecutable();
  const serverOptions: ServerOptions = { command, args: ["lsp", "--stdio"], options: { shell: process.platform === "win32" } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
    ],
    synchronize: {
      // Configuration files: the server re-lints open documents when one changes.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{bnlint.config.json,.bnlintrc,.bnlintrc.json,pyproject.toml}"),
    },
    initializationOptions: { settings: vscode.workspace.getConfiguration("bnlint") },
  };
  client = new LanguageClient("bnlint", "bnlint", serverOptions, clientOptions);
  context.subscriptions.push(client);
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(`bnlint: cannot start \`${command} lsp\` (${(e as Error).message}). Install bnlint (npm install -D bnlint) or set bnlint.path.`);
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

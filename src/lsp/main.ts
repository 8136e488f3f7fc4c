/** `bnlint lsp`: the language server over stdio. Loaded only by that subcommand. */
import { createConnection, ProposedFeatures } from "vscode-languageserver/node";
import { startServer } from "./server.js";

/** Runs until the client sends `exit` (the library then ends the process) or closes the pipe. */
export function runLanguageServer(): Promise<number> {
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  // Whatever escapes a handler is logged for the user; the server keeps serving the other documents.
  process.on("uncaughtException", (e) => connection.console.error(`bnlint: uncaught error: ${e.stack ?? e}`));
  process.on("unhandledRejection", (e) => connection.console.error(`bnlint: unhandled rejection: ${(e as Error)?.stack ?? e}`));
  startServer(connection);
  return new Promise((resolve) => connection.onExit(() => resolve(0)));
}

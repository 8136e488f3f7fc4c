#!/usr/bin/env node
import module from "node:module";
import { statSync } from "node:fs";
import v8 from "node:v8";

// Node >= 22.1 can keep V8's compiled code of the bundle between runs; Node 20 has no such cache for ES modules.
module.enableCompileCache?.();

/**
 * True for a run over a few small files (an editor's save hook, a pre-commit check on changed files). V8 then
 * keeps tree-sitter's WebAssembly on its baseline compiler: optimising the parser's large functions in the
 * background costs more than the parse of a small file gains from them (about 120 ms of a 350 ms start on
 * 2 cores, `npm run bench startup`). Folder runs, the language server and `--confirm` (whose tensor kernels
 * need the optimising compiler) keep V8's default.
 */
function smallRun(args) {
  if (args.includes("lsp") || args.includes("--confirm") || args.includes("-")) return false;
  let files = 0;
  let bytes = 0;
  for (const arg of args) {
    if (arg.startsWith("-")) continue;
    let stat;
    try {
      stat = statSync(arg);
    } catch {
      continue; // an option's value, or a path the linter will report
    }
    if (stat.isDirectory()) return false;
    files += 1;
    bytes += stat.size;
  }
  return files > 0 && files <= 8 && bytes <= 512 * 1024;
}

if (smallRun(process.argv.slice(2))) v8.setFlagsFromString("--liftoff-only");
const { main } = await import("../dist/bundle/main.js");
await main();

// CI features against plain linting, measured in this process: worker threads vs one thread, each report
// format vs json, a --cache hit vs linting, --fix (lint + fix + relint) vs linting. Ratios only.
import { existsSync, readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectFiles } from "../dist/src/cli/files.js";
import { lintFile } from "../dist/src/engine/linter.js";
import { fixText } from "../dist/src/engine/fixer.js";
import { lintInWorkers, workerScript, defaultThreads } from "../dist/src/cli/parallel.js";
import { LintCache } from "../dist/src/cli/cache.js";
import { loadFormatter } from "../dist/src/report/index.js";
import { rules } from "../dist/rules/index.js";

const CORPUS = ["/usr/lib/python3/dist-packages/torchvision/models", "/usr/lib/python3/dist-packages/torch/nn", "fixtures"].filter(existsSync);

async function time(fn) {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export default async function (log) {
  const files = (await collectFiles(CORPUS)).filter((f) => !f.error).map((f) => f.path);
  log(`corpus: ${files.length} files (${CORPUS.join(", ")})`);
  await lintFile(files[0]); // warm the parser

  const sequential = await time(async () => { const out = []; for (const f of files) out.push(await lintFile(f)); return out; });
  log(`one thread: ${sequential.ms.toFixed(0)} ms (baseline)`);
  const threads = defaultThreads();
  if (threads > 1 && workerScript()) {
    const parallel = await time(() => lintInWorkers(files.map((path) => ({ path, options: {} })), threads, workerScript()));
    log(`${threads} worker threads: ${(parallel.ms / sequential.ms).toFixed(2)}x the one-thread time (incl. starting the workers)`);
  } else log(`worker threads: skipped (${threads} CPU)`);

  const results = sequential.value;
  const context = { color: false, cwd: process.cwd(), rules };
  const json = await loadFormatter("json");
  const jsonTime = await time(() => { for (let i = 0; i < 20; i++) json(results, context); });
  for (const name of ["sarif", "github", "junit", "stylish"]) {
    const format = await loadFormatter(name);
    const t = await time(() => { for (let i = 0; i < 20; i++) format(results, context); });
    log(`format ${name}: ${(t.ms / jsonTime.ms).toFixed(2)}x json`);
  }

  const dir = mkdtempSync(join(tmpdir(), "bnlint-bench-"));
  const cache = await LintCache.open(join(dir, "cache"));
  for (const [i, f] of files.entries()) (await cache.get(f, {})).store(results[i]);
  await cache.save();
  const reopened = await LintCache.open(join(dir, "cache"));
  const hits = await time(async () => { for (const f of files) await reopened.get(f, {}); });
  log(`--cache, all hits: ${(hits.ms / sequential.ms).toFixed(3)}x linting`);

  const fixable = files.filter((f, i) => results[i].messages.some((m) => m.fix));
  const lintOnly = await time(async () => { for (const f of fixable) await lintFile(f); });
  const fixing = await time(async () => { for (const f of fixable) await fixText(readFileSync(f, "utf8"), f, {}, { unsafe: true }); });
  log(`--fix --unsafe-fixes on the ${fixable.length} fixable files: ${(fixing.ms / lintOnly.ms).toFixed(2)}x linting them`);
  writeFileSync(join(dir, "done"), "");
}

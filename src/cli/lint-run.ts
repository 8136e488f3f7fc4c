/** The file loop of a CLI run: configuration per file, include/exclude, cache, lint (in parallel when many) or fix. */
import { resolve } from "node:path";
import { stat } from "node:fs/promises";
import { collectFiles } from "./files.js";
import type { PerFileConfig } from "./config-setup.js";
import type { LintCache } from "./cache.js";
import { lintInWorkers, PARALLEL_MIN_FILES, workerScript } from "./parallel.js";
import { fatalDiagnostic, lintFile, type LintOptions } from "../engine/linter.js";
import { countResult, type LintResult } from "../engine/diagnostic.js";

const FILE_START = { start: { line: 1, column: 1 }, end: { line: 1, column: 1 }, startIndex: 0, endIndex: 0 };

export interface RunSettings {
  paths: string[];
  cwd: string;
  perFile: PerFileConfig;
  /** Options every file gets on top of its configuration (`--report-unused-disable-directives`, `--max-file-size`). */
  extra: LintOptions;
  /** Apply include/exclude to files named on the command line too (`--force-exclude`, for pre-commit). */
  forceExclude: boolean;
  fix?: { unsafe: boolean; dryRun: boolean };
  /** `--cache`: reuse results of unchanged files (not with fixes). */
  cache?: LintCache;
  /** Worker threads for linting (1: none). */
  threads?: number;
  /** Called as files finish (progress bar). */
  onFile?: (done: number, total: number) => void;
}

export interface RunOutcome {
  results: LintResult[];
  /** Unified diffs (`--fix-dry-run`). */
  diffs: string[];
  /** Per fixed file: its path and the fixes applied. */
  fixed: { filePath: string; titles: string[] }[];
  errors: string[];
}

async function explicitFiles(paths: string[], cwd: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const p of paths) {
    const full = resolve(cwd, p);
    if ((await stat(full).catch(() => undefined))?.isFile()) out.add(full);
  }
  return out;
}

export async function lintPaths(settings: RunSettings): Promise<RunOutcome> {
  const outcome: RunOutcome = { results: [], diffs: [], fixed: [], errors: [] };
  const named = await explicitFiles(settings.paths, settings.cwd);
  const entries = await collectFiles(settings.paths, settings.cwd);
  // Slots keep the walk order whatever finishes first.
  const slots: (LintResult | undefined)[] = [];
  const pending: { slot: number; path: string; options: LintOptions; store?: (r: LintResult) => void }[] = [];
  let done = 0;
  const tick = (): void => settings.onFile?.(done++, entries.length);
  // Every configuration is read before any file is linted or fixed: a bad one stops the run untouched.
  const configs = await Promise.all(entries.map((e) => (e.error || e.notice ? undefined : settings.perFile.config(e.path))));
  for (const [i, entry] of entries.entries()) {
    if (entry.error) {
      slots.push(countResult(entry.path, [fatalDiagnostic(entry.error, FILE_START)], []));
      tick();
      continue;
    }
    if (entry.notice) {
      slots.push(countResult(entry.path, [{ ruleId: null, severity: 1, message: entry.notice, range: FILE_START, related: [] }], []));
      tick();
      continue;
    }
    const config = configs[i];
    if ((settings.forceExclude || !named.has(entry.path)) && settings.perFile.excluded(entry.path, config)) {
      tick();
      continue;
    }
    const options = { ...settings.perFile.optionsFor(entry.path, config), ...settings.extra };
    if (settings.fix) {
      const { fixFile } = await import("./fix-mode.js");
      const run = await fixFile(entry.path, options, { ...settings.fix, cwd: settings.cwd });
      if (run?.error) outcome.errors.push(run.error);
      if (run?.diff) outcome.diffs.push(run.diff);
      if (run?.changed && !settings.fix.dryRun) outcome.fixed.push({ filePath: entry.path, titles: run.titles });
      slots.push(run && !run.error ? run.result : await lintFile(entry.path, options));
      tick();
      continue;
    }
    const cached = settings.cache ? await settings.cache.get(entry.path, options) : undefined;
    if (cached?.result) {
      slots.push(cached.result);
      tick();
      continue;
    }
    pending.push({ slot: slots.length, path: entry.path, options, store: cached?.store });
    slots.push(undefined);
  }
  const script = workerScript();
  const threads = settings.threads ?? 1;
  if (script && threads > 1 && pending.length >= PARALLEL_MIN_FILES) {
    const results = await lintInWorkers(pending, threads, script, tick);
    pending.forEach((p, i) => (slots[p.slot] = results[i]));
  } else {
    for (const p of pending) {
      slots[p.slot] = await lintFile(p.path, p.options);
      tick();
    }
  }
  for (const p of pending) p.store?.(slots[p.slot]!);
  outcome.results = slots.filter((r): r is LintResult => r !== undefined);
  settings.onFile?.(entries.length, entries.length);
  await settings.cache?.save();
  return outcome;
}

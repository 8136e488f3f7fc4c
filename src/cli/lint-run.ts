/** The file loop of a CLI run: configuration per file, include/exclude, lint or fix. */
import { resolve } from "node:path";
import { stat } from "node:fs/promises";
import { collectFiles } from "./files.js";
import { fixFile } from "./fix-mode.js";
import type { PerFileConfig } from "./config-setup.js";
import { fatalDiagnostic, lintFile, type LintOptions } from "../engine/linter.js";
import { countResult, type LintResult } from "../engine/diagnostic.js";
import type { LintCache } from "./cache.js";

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
  /** Called after each file (progress bar). */
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
  let done = 0;
  for (const entry of entries) {
    settings.onFile?.(done++, entries.length);
    if (entry.error) {
      outcome.results.push(countResult(entry.path, [fatalDiagnostic(entry.error, FILE_START)], []));
      continue;
    }
    const config = await settings.perFile.config(entry.path);
    if ((settings.forceExclude || !named.has(entry.path)) && settings.perFile.excluded(entry.path, config)) continue;
    const options = { ...settings.perFile.optionsFor(entry.path, config), ...settings.extra };
    if (settings.fix) {
      const run = await fixFile(entry.path, options, { ...settings.fix, cwd: settings.cwd });
      if (run) {
        if (run.error) outcome.errors.push(run.error);
        if (run.diff) outcome.diffs.push(run.diff);
        if (run.changed && !settings.fix.dryRun) outcome.fixed.push({ filePath: entry.path, titles: run.titles });
        if (!run.error) {
          outcome.results.push(run.result);
          continue;
        }
      }
    }
    const cached = settings.cache && !settings.fix ? await settings.cache.get(entry.path, options) : undefined;
    if (cached?.result) {
      outcome.results.push(cached.result);
      continue;
    }
    const result = await lintFile(entry.path, options);
    cached?.store(result);
    outcome.results.push(result);
  }
  settings.onFile?.(entries.length, entries.length);
  await settings.cache?.save();
  return outcome;
}

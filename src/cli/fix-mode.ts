/** `--fix`, `--unsafe-fixes`, `--fix-dry-run`: fix each file, write it atomically or print the diff. */
import { countResult, type LintResult } from "../engine/diagnostic.js";
import type { LintOptions } from "../engine/linter.js";
import { fixText, readForFix, writeFileAtomic } from "../engine/fixer.js";
import { displayPath } from "../report/paths.js";

export interface FixRun {
  /** The final lint result of the file (after fixing, or as it is when nothing applied). */
  result: LintResult;
  fixesApplied: number;
  titles: string[];
  changed: boolean;
  /** Unified diff (dry run only). */
  diff?: string;
  error?: string;
}

export async function fixFile(filePath: string, options: LintOptions, mode: { unsafe: boolean; dryRun: boolean; cwd: string }): Promise<FixRun | undefined> {
  const read = await readForFix(filePath);
  if (!read) return undefined; // unreadable: the normal lint reports it
  try {
    const outcome = await fixText(read.text, filePath, options, { unsafe: mode.unsafe || mode.dryRun });
    const changed = outcome.output !== read.text;
    if (!changed) return { result: outcome.result, fixesApplied: 0, titles: [], changed: false };
    if (mode.dryRun) {
      const name = displayPath(filePath, mode.cwd);
      const { createTwoFilesPatch } = await import("diff"); // only dry runs print diffs
      const diff = createTwoFilesPatch(`a/${name}`, `b/${name}`, read.text, outcome.output, undefined, undefined, { context: 3 });
      return { result: outcome.result, fixesApplied: outcome.fixesApplied, titles: outcome.titles, changed, diff: diff.replace(/^(Index: .*\n)?=+\n/, "") };
    }
    await writeFileAtomic(filePath, outcome.output, read.bytes);
    return { result: outcome.result, fixesApplied: outcome.fixesApplied, titles: outcome.titles, changed };
  } catch (e) {
    return { result: countResult(filePath, [], [], read.text), fixesApplied: 0, titles: [], changed: false, error: `cannot fix ${filePath}: ${(e as Error).message}` };
  }
}

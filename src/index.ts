/** bnlint as a library: `import { lintText, lintFiles } from "bnlint"`. */
import { collectFiles } from "./cli/files.js";
import { lintFile, lintText, fatalDiagnostic, type LintOptions } from "./engine/linter.js";
import { countResult, type LintResult } from "./engine/diagnostic.js";

export { lintText, lintFile };
export type { LintOptions, LintResult };
export type { Diagnostic, Fix, Confirmation } from "./engine/diagnostic.js";
export { rules } from "../rules/index.js";
export { IncrementalLinter } from "./engine/incremental.js";

/** Lints files and folders (folders are walked, respecting .gitignore). One result per file. */
export async function lintFiles(paths: string[], options: LintOptions = {}): Promise<LintResult[]> {
  const results: LintResult[] = [];
  for (const entry of await collectFiles(paths)) {
    if (entry.error) {
      results.push(countResult(entry.path, [fatalDiagnostic(entry.error, { start: { line: 1, column: 1 }, end: { line: 1, column: 1 }, startIndex: 0, endIndex: 0 })], []));
    } else results.push(await lintFile(entry.path, options));
  }
  return results;
}

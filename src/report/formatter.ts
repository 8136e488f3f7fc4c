import type { LintResult } from "../engine/diagnostic.js";
import type { Rule } from "../rule.js";

export interface FormatContext {
  color: boolean;
  cwd: string;
  rules: readonly Rule[];
  maxWarningsExceeded?: { maxWarnings: number; foundWarnings: number };
}

export type Formatter = (results: LintResult[], context: FormatContext) => string;

import type { LintOptions } from "../engine/linter.js";
import type { RuleSeverity } from "../rule.js";

/** Lint options of a file no configuration applies to: the command line's `--rule` settings over the base. */
export function optionsWithoutConfig(base: LintOptions, cliRules: Record<string, RuleSeverity> = {}): LintOptions {
  return { ...base, rules: { ...base.rules, ...cliRules } };
}

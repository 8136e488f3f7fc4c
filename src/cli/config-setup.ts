/** Per-file configuration for a CLI run: `--config <file>`, `--no-config`, or discovery next to each file. */
import { ConfigError, type BnlintConfig } from "../config/config.js";
import { ConfigResolver, loadConfigFile } from "../config/discover.js";
import { isExcluded, optionsForFile } from "../config/apply.js";
import type { LintOptions } from "../engine/linter.js";
import type { RuleSeverity } from "../rule.js";

export interface ConfigChoice {
  /** `--config <file>`; `false` for `--no-config`. */
  config?: string | false;
}

export interface PerFileConfig {
  config(filePath: string): Promise<BnlintConfig | undefined>;
  optionsFor(filePath: string, config: BnlintConfig | undefined): LintOptions;
  excluded(filePath: string, config: BnlintConfig | undefined): boolean;
}

export async function setUpConfig(choice: ConfigChoice, base: LintOptions, cliRules: Record<string, RuleSeverity> | undefined, ruleIds: readonly string[]): Promise<PerFileConfig> {
  const known = new Set(ruleIds);
  let find: (filePath: string) => Promise<BnlintConfig | undefined>;
  if (choice.config === false) find = async () => undefined;
  else if (typeof choice.config === "string") {
    const fixed = await loadConfigFile(choice.config, known);
    find = async () => fixed;
  } else {
    const resolver = new ConfigResolver(known);
    find = (f) => resolver.forFile(f);
  }
  return {
    config: find,
    optionsFor: (filePath, config) => optionsForFile(config, filePath, base, cliRules, ruleIds),
    excluded: (filePath, config) => isExcluded(config, filePath),
  };
}

export { ConfigError };

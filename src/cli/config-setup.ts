/** Per-file configuration for a CLI run: `--config <file>`, `--no-config`, or discovery next to each file. */
import type { BnlintConfig } from "../config/config.js";
import { ConfigError } from "../config/error.js";
import { ConfigResolver, loadConfigFile } from "../config/discover.js";
import { optionsWithoutConfig } from "../config/base-options.js";
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

type Apply = typeof import("../config/apply.js");

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
  // The glob matching (picomatch) is loaded with the first configuration found: the callers below only
  // get a config from `config()`, so `apply` is always there when they need it.
  let apply: Apply | undefined;
  return {
    config: async (filePath) => {
      const config = await find(filePath);
      if (config) apply ??= await import("../config/apply.js");
      return config;
    },
    optionsFor: (filePath, config) => (config ? apply!.optionsForFile(config, filePath, base, cliRules, ruleIds) : optionsWithoutConfig(base, cliRules)),
    excluded: (filePath, config) => (config ? apply!.isExcluded(config, filePath) : false),
  };
}

export { ConfigError };

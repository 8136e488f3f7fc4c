import { relative, sep } from "node:path";
import picomatch from "picomatch";
import type { LintOptions } from "../engine/linter.js";
import type { RuleSeverity } from "../rule.js";
import type { BnlintConfig } from "./config.js";
import { optionsWithoutConfig } from "./base-options.js";

const matchers = new Map<string, (path: string) => boolean>();

/** Gitignore-like globs: a pattern without a slash matches at any depth (`legacy_*.py`), with one from the config's folder. */
function matches(pattern: string, relPath: string): boolean {
  let m = matchers.get(pattern);
  if (!m) {
    const anchored = pattern.replace(/^\.\//, "");
    const full = anchored.includes("/") ? anchored : `**/${anchored}`;
    const exact = picomatch(full, { dot: true });
    const asFolder = picomatch(`${full.replace(/\/$/, "")}/**`, { dot: true });
    m = (p) => exact(p) || asFolder(p);
    matchers.set(pattern, m);
  }
  return m(relPath);
}

function relativeToConfig(config: BnlintConfig, filePath: string): string {
  return relative(config.dir, filePath).split(sep).join("/");
}

/** Whether a file found by walking a folder is skipped by the config's `include` / `exclude`. */
export function isExcluded(config: BnlintConfig | undefined, filePath: string): boolean {
  if (!config) return false;
  const rel = relativeToConfig(config, filePath);
  if (rel.startsWith("..")) return false;
  if (config.exclude.some((p) => matches(p, rel))) return true;
  return config.include !== undefined && !config.include.some((p) => matches(p, rel));
}

/**
 * Lint options for one file: the config's rule severities and per-file ignores, then the command line's
 * `--rule` settings over them; the config's input shapes and model arguments fill the shared options.
 */
export function optionsForFile(config: BnlintConfig | undefined, filePath: string, base: LintOptions, cliRules: Record<string, RuleSeverity> = {}, allRuleIds: readonly string[] = []): LintOptions {
  if (!config) return optionsWithoutConfig(base, cliRules);
  // Per-file ignores win over everything, as in Ruff: they say where a rule does not apply.
  const rules: Record<string, RuleSeverity> = { ...base.rules, ...config.rules, ...cliRules };
  const rel = relativeToConfig(config, filePath);
  for (const ignore of config.perFileIgnores) {
    if (!matches(ignore.pattern, rel)) continue;
    for (const id of ignore.rules === "all" ? allRuleIds : ignore.rules) rules[id] = "off";
  }
  return {
    ...base,
    rules,
    inputShapes: { ...config.inputShapes, ...base.inputShapes },
    modelArgs: { ...config.modelArgs, ...base.modelArgs },
  };
}

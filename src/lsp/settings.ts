/** Editor-side settings of the language server, and the configuration files it watches. */
import { ruleById } from "../../rules/index.js";
import type { RuleSeverity } from "../rule.js";
import type { LintOptions } from "../engine/linter.js";

export interface ServerSettings {
  /** Severity per rule id, from the editor's `bnlint.rules` setting (over each rule's default). */
  rules: Record<string, RuleSeverity>;
  /** Wait this long after the last change before linting a document. */
  debounceMs: number;
}

export const DEFAULT_SETTINGS: ServerSettings = { rules: {}, debounceMs: 200 };

/**
 * Configuration files (those the CLI reads: src/config/discover.ts). A change to one re-reads the configuration
 * and re-lints every open document.
 */
export const CONFIG_FILE_GLOBS = ["**/bnlint.toml", "**/pyproject.toml"];

const SEVERITY_WORDS: Record<string, RuleSeverity> = { off: "off", warn: "warning", warning: "warning", error: "error", "0": "off", "1": "warning", "2": "error" };

/**
 * Reads `{ rules, debounceMs }` from whatever the client sent (workspace/configuration or initializationOptions).
 * Unknown rule ids and severities are skipped and returned as problems, so the client can be told once.
 */
export function parseSettings(raw: unknown): { settings: ServerSettings; problems: string[] } {
  const settings: ServerSettings = { rules: {}, debounceMs: DEFAULT_SETTINGS.debounceMs };
  const problems: string[] = [];
  if (raw === null || typeof raw !== "object") return { settings, problems };
  const obj = raw as Record<string, unknown>;
  if (obj.rules !== undefined && obj.rules !== null && typeof obj.rules === "object") {
    for (const [id, value] of Object.entries(obj.rules as Record<string, unknown>)) {
      const severity = SEVERITY_WORDS[String(value)];
      if (!ruleById.has(id)) problems.push(`unknown rule "${id}" in bnlint.rules`);
      else if (!severity) problems.push(`unknown severity "${String(value)}" for ${id} in bnlint.rules: use off, warn or error`);
      else settings.rules[id] = severity;
    }
  }
  if (typeof obj.debounceMs === "number" && Number.isFinite(obj.debounceMs) && obj.debounceMs >= 0) settings.debounceMs = obj.debounceMs;
  return { settings, problems };
}

export function lintOptionsFrom(settings: ServerSettings): LintOptions {
  return { rules: settings.rules };
}

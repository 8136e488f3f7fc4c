/**
 * Declarative configuration: `bnlint.toml` (top level) or `[tool.bnlint]` in `pyproject.toml`.
 * Parsed as data and checked key by key; nothing in it is ever executed.
 */
import type { ModelArgs, ModelArgValue } from "../engine/linter.js";
import { basename, dirname } from "node:path";
import { parse, TomlError } from "smol-toml";
import type { RuleSeverity } from "../rule.js";
import { ConfigError } from "./error.js";

export { ConfigError };

export interface PerFileIgnore {
  pattern: string;
  rules: string[] | "all";
}

export interface BnlintConfig {
  /** The file it came from, and the folder its globs are relative to. */
  file: string;
  dir: string;
  rules: Record<string, RuleSeverity>;
  include?: string[];
  exclude: string[];
  perFileIgnores: PerFileIgnore[];
  inputShapes: Record<string, number[]>;
  modelArgs: ModelArgs;
}

const SEVERITIES: Record<string, RuleSeverity> = { off: "off", warn: "warning", warning: "warning", error: "error" };
const KEYS = new Set(["rules", "include", "exclude", "per-file-ignores", "input-shape", "model-args"]);

/** The line of `key` in the config text (the first one after the bnlint table starts), for error messages. */
function lineOf(text: string, key: string | undefined, tableStart: number): number {
  const lines = text.split(/\r?\n/);
  if (key !== undefined) {
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = new RegExp(`(^|[\\s{,.\\[])("${escaped}"|'${escaped}'|${escaped})\\s*[=\\]]`);
    for (let i = Math.max(0, tableStart - 1); i < lines.length; i++) if (pattern.test(lines[i])) return i + 1;
  }
  return tableStart;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Parses one configuration file. Returns undefined for a `pyproject.toml` without `[tool.bnlint]`.
 * Throws ConfigError for bad TOML, unknown keys, unknown rule ids and values of the wrong type.
 */
export function parseConfig(text: string, file: string, knownRules: ReadonlySet<string>): BnlintConfig | undefined {
  const isPyproject = basename(file) === "pyproject.toml";
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) throw new ConfigError(file, e.line, `invalid TOML: ${e.message.split("\n")[0]}`);
    throw new ConfigError(file, 1, `invalid TOML: ${(e as Error).message}`);
  }
  let table: unknown = doc;
  let tableStart = 1;
  if (isPyproject) {
    const tool = doc.tool;
    if (!isTable(tool) || tool.bnlint === undefined) return undefined;
    table = tool.bnlint;
    const header = text.split(/\r?\n/).findIndex((l) => /^\s*\[\s*tool\s*\.\s*bnlint\s*[\].]/.test(l));
    tableStart = header >= 0 ? header + 1 : lineOf(text, "bnlint", 1);
  }
  const fail = (reason: string, key?: string): never => {
    throw new ConfigError(file, lineOf(text, key, tableStart), reason);
  };
  if (!isTable(table)) return fail("[tool.bnlint] must be a table");
  const config: BnlintConfig = { file, dir: dirname(file), rules: {}, exclude: [], perFileIgnores: [], inputShapes: {}, modelArgs: {} };

  for (const [key, value] of Object.entries(table)) {
    if (!KEYS.has(key)) fail(`unknown key "${key}" (known: ${[...KEYS].join(", ")})`, key);
    switch (key) {
      case "rules": {
        if (!isTable(value)) fail(`"rules" must be a table of rule id = "off" | "warn" | "error"`, key);
        for (const [id, sev] of Object.entries(value as Record<string, unknown>)) {
          if (!knownRules.has(id)) fail(`unknown rule "${id}" in "rules" (known: ${[...knownRules].join(", ")})`, id);
          const severity = typeof sev === "string" ? SEVERITIES[sev] : undefined;
          if (!severity) fail(`rule "${id}" has severity ${JSON.stringify(sev)}: use "off", "warn" or "error"`, id);
          config.rules[id] = severity!;
        }
        break;
      }
      case "include":
      case "exclude": {
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) fail(`"${key}" must be an array of glob strings`, key);
        if (key === "include") config.include = value as string[];
        else config.exclude = value as string[];
        break;
      }
      case "per-file-ignores": {
        if (!isTable(value)) fail(`"per-file-ignores" must be a table of glob = [rule ids]`, key);
        for (const [pattern, ids] of Object.entries(value as Record<string, unknown>)) {
          if (!Array.isArray(ids) || ids.some((v) => typeof v !== "string")) fail(`per-file-ignores "${pattern}" must be an array of rule ids`, pattern);
          const list = ids as string[];
          if (list.includes("all")) {
            config.perFileIgnores.push({ pattern, rules: "all" });
            continue;
          }
          const unknown = list.find((id) => !knownRules.has(id));
          if (unknown) fail(`unknown rule "${unknown}" in per-file-ignores "${pattern}"`, pattern);
          config.perFileIgnores.push({ pattern, rules: list });
        }
        break;
      }
      case "input-shape": {
        if (!isTable(value)) fail(`"input-shape" must be a table of model class = [dims] ("*" for every model)`, key);
        for (const [model, dims] of Object.entries(value as Record<string, unknown>)) {
          if (!Array.isArray(dims) || dims.length === 0 || dims.some((d) => typeof d !== "number" || !Number.isInteger(d) || d <= 0)) {
            fail(`input-shape of "${model}" must be a non-empty array of positive integers, e.g. [8, 3, 32, 32]`, model);
          }
          config.inputShapes[model] = dims as number[];
        }
        break;
      }
      case "model-args": {
        if (!isTable(value)) fail(`"model-args" must be a table of model class = { argument = number, "string", true/false, [values] or { name = "<Class>" } }`, key);
        for (const [model, args] of Object.entries(value as Record<string, unknown>)) {
          if (!isTable(args)) fail(`model-args of "${model}" must be a table such as { channels = 16 }`, model);
          const out: Record<string, ModelArgValue> = {};
          const isScalar = (n: unknown): n is number | string => (typeof n === "number" && Number.isFinite(n)) || typeof n === "string";
          // `{ name = "BasicBlock" }`: a class or function of the linted file, as `block=BasicBlock` on the command line.
          const isName = (n: unknown): boolean => isTable(n) && Object.keys(n as object).join() === "name" && typeof (n as { name: unknown }).name === "string" && /^[A-Za-z_]\w*$/.test((n as { name: string }).name);
          for (const [name, n] of Object.entries(args as Record<string, unknown>)) {
            if (!isScalar(n) && typeof n !== "boolean" && !isName(n) && !(Array.isArray(n) && n.every(isScalar))) fail(`model-args "${model}.${name}" must be a number, a string, a boolean, an array of numbers and strings, or { name = "<Class>" }`, name);
            out[name] = n as ModelArgValue;
          }
          config.modelArgs[model] = out;
        }
        break;
      }
    }
  }
  return config;
}

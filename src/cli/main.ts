import type { ModelArgs, ModelArgValue } from "../engine/linter.js";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { rules, ruleById } from "../../rules/index.js";
import type { RuleSeverity } from "../rule.js";
import type { LintOptions } from "../engine/linter.js";
import { countResult } from "../engine/diagnostic.js";
import { ConfigError, setUpConfig } from "./config-setup.js";
import { lintPaths } from "./lint-run.js";
import { statistics } from "./statistics.js";
import { progressBar } from "./progress.js";
import { defaultThreads } from "./parallel.js";
import { formatNames, loadFormatter } from "../report/index.js";
import { VERSION } from "../version.js";
import { parseInputShape } from "../passes/input-shape.js";
import { getPythonParser } from "../frontend/python/parser.js";

export class UsageError extends Error {}

/** Colour for a terminal, unless `--no-color`, `NO_COLOR` or `--output-file`; `--color` forces it. */
function colorOutput(opts: { color?: boolean; outputFile?: string }, io: { isTTY: boolean; env: Record<string, string | undefined> }): boolean {
  return opts.color ?? (io.isTTY && !opts.outputFile && !io.env.NO_COLOR);
}

const SEVERITY_WORDS: Record<string, RuleSeverity> = { off: "off", "0": "off", warn: "warning", warning: "warning", "1": "warning", error: "error", "2": "error" };

function parseRuleOption(value: string, previous: Record<string, RuleSeverity> = {}): Record<string, RuleSeverity> {
  const m = /^([a-z0-9-]+)\s*[:=]\s*(\w+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected <rule-id>:<off|warn|error>, got "${value}"`);
  const [, id, word] = m;
  if (!ruleById.has(id)) throw new InvalidArgumentError(`unknown rule "${id}" (see --list-rules)`);
  const severity = SEVERITY_WORDS[word];
  if (!severity) throw new InvalidArgumentError(`unknown severity "${word}" for ${id}: use off, warn or error`);
  return { ...previous, [id]: severity };
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

function parseMegabytes(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a size in MB, got "${value}"`);
  return Math.round(n * 1024 * 1024);
}

/** One argument value as written: a number or a quoted string (`"source"`, `'b'`). */
function scalarArg(text: string): number | string {
  const quoted = /^(["'])(.*)\1$/s.exec(text);
  return quoted ? quoted[2] : Number(text);
}

/**
 * `True`/`False` (Python's spelling, or `true`/`false`) as a boolean; an unquoted name (`BasicBlock`) as a class
 * or function of the linted file; anything else as scalarArg reads it.
 */
function valueArg(text: string): ModelArgValue {
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  if (/^[A-Za-z_]\w*$/.test(text)) return { name: text };
  return scalarArg(text);
}

/**
 * `--model-args Net=rank1=8,rates=(6,12,18),domains=("source","target")`: numbers, quoted strings, or lists of
 * them in `()` or `[]`.
 */
function parseModelArgs(value: string, previous: ModelArgs = {}): ModelArgs {
  const m = /^([A-Za-z_]\w*)=(.+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected <Class>=<name>=<number>,..., got "${value}"`);
  const args: Record<string, ModelArgValue> = { ...previous[m[1]] };
  const SCALAR = `-?(?:\\d+\\.?\\d*|\\.\\d+)(?:e-?\\d+)?|"[^"]*"|'[^']*'`;
  const pair = new RegExp(`\\s*([A-Za-z_]\\w*)\\s*=\\s*(${SCALAR}|[A-Za-z_]\\w*|[([]\\s*(?:(?:${SCALAR})\\s*(?:,\\s*(?:${SCALAR})\\s*)*,?)?[)\\]])\\s*(?:,|$)`, "iy");
  let rest = m[2];
  while (rest.trim() !== "") {
    const kv = pair.exec(rest);
    pair.lastIndex = 0;
    if (!kv) throw new InvalidArgumentError(`expected <name>=<number>, <name>="<text>", <name>=True|False, <name>=<Class> or <name>=(<value>,...) in "${value}", at "${rest.split(",")[0]}"`);
    const text = kv[2];
    const items = /^[([]/.test(text) ? text.slice(1, -1).match(new RegExp(SCALAR, "g")) ?? [] : undefined;
    args[kv[1]] = items ? items.map(scalarArg) : valueArg(text);
    rest = rest.slice(kv[0].length);
  }
  return { ...previous, [m[1]]: args };
}

interface CliOptions {
  format: string;
  outputFile?: string;
  quiet?: boolean;
  maxWarnings: number;
  rule?: Record<string, RuleSeverity>;
  listRules?: boolean;
  explain?: string;
  color?: boolean;
  maxFileSize?: number;
  verbose?: boolean;
  inputShape?: Record<string, number[]>;
  confirm?: boolean;
  modelArgs?: ModelArgs;
  config?: string | false;
  forceExclude?: boolean;
  fix?: boolean;
  unsafeFixes?: boolean;
  fixDryRun?: boolean;
  reportUnusedDisableDirectives?: boolean;
  statistics?: boolean;
  cache?: boolean;
  cacheLocation: string;
  threads?: number;
}

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  /** Whether stderr is a terminal (the progress bar is drawn there). */
  stderrIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function buildProgram(io: CliIO): Command {
  return new Command()
    .name("bnlint")
    .description("Find BatchNorm bugs in neural-network model definitions: reused, unused, mis-shaped, on the logits.")
    .version(VERSION, "-v, --version")
    .argument("[paths...]", "files and folders to lint (folders are walked, respecting .gitignore)", ["."])
    .option("-f, --format <name>", `output format: ${formatNames.join(", ")}`, "stylish")
    .option("-o, --output-file <path>", "write the report to a file instead of stdout")
    .option("--quiet", "report errors only, not warnings")
    .option("--max-warnings <n>", "exit with 1 when there are more warnings than this", parseCount, -1)
    .option("--rule <id:severity>", "set a rule's severity (off, warn, error); repeatable", parseRuleOption)
    .option("--list-rules", "list every rule with its default severity and exit")
    .option("--explain <rule-id>", "print a rule's documentation (`all` for every rule) and exit")
    .option("-c, --config <file>", "use this bnlint.toml / pyproject.toml instead of looking for one next to each file")
    .option("--no-config", "ignore every configuration file")
    .option("--force-exclude", "apply the configuration's include/exclude to files named on the command line too")
    .option("--fix", "apply safe fixes and write the files")
    .option("--unsafe-fixes", "with --fix, also apply unsafe fixes (they rename parameters: old checkpoints need new keys)")
    .option("--fix-dry-run", "print the fixes (safe and unsafe) as a unified diff; change nothing")
    .option("--report-unused-disable-directives", "report suppression comments that silenced nothing")
    .option("--statistics", "print the number of problems per rule instead of the report")
    .option("--cache", "skip files unchanged since the last run (content hash + configuration + bnlint version)")
    .option("--cache-location <path>", "where --cache keeps its data", ".bnlintcache")
    .option("--threads <n>", `worker threads when there are many files (default: ${defaultThreads()}; 1 for none)`, parseCount)
    .option("--max-file-size <MB>", "skip (and report) files larger than this", parseMegabytes)
    .option("--input-shape <[Model=]sizes>", "input shape for the shape checks, e.g. 1,3,32,32 (every top-level model) or Net=1,3,32,32; repeatable", (v: string, prev?: Record<string, number[]>) => {
      try {
        return parseInputShape(v, prev);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    })
    .option("--confirm", "run each finding's model on synthetic data (train vs eval mode) and add the numbers as evidence")
    .option("--model-args <Class=name=value,...>", "constructor arguments for --confirm, e.g. Net=rank1=8,rates=(6,12,18); repeatable", parseModelArgs)
    .option("--verbose", "print analysis notes (budgets hit, constructs not followed) to stderr")
    .option("--color", "force colored output")
    .option("--no-color", "disable colored output (also: NO_COLOR=1)")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
}

/** Runs the CLI and returns its exit code: 0 clean, 1 problems found, 2 usage or internal error. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  // `bnlint lsp [--stdio]`: the language server, loaded only here so plain linting never pays for it.
  if (argv[0] === "lsp") return (await import("../lsp/main.js")).runLanguageServer();
  const program = buildProgram(io);
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  const opts = program.opts<CliOptions>();
  const paths = program.args.length > 0 ? program.args : ["."];
  if (opts.listRules) {
    const width = Math.max(...rules.map((r) => r.meta.id.length));
    for (const r of rules) io.stdout(`${r.meta.id.padEnd(width)}  ${r.meta.defaultSeverity.padEnd(7)}  ${r.meta.description}\n`);
    return 0;
  }
  if (opts.explain !== undefined) {
    const { renderRuleDoc } = await import("../docs/render.js");
    if (opts.explain === "all") {
      io.stdout(rules.map((r) => renderRuleDoc(r, 1)).join("\n"));
      return 0;
    }
    const rule = ruleById.get(opts.explain);
    if (!rule) {
      io.stderr(`bnlint: unknown rule "${opts.explain}". Known rules: ${rules.map((r) => r.meta.id).join(", ")}\n`);
      return 2;
    }
    io.stdout(renderRuleDoc(rule, 1));
    return 0;
  }
  // Start loading the grammar (wasm compilation) now, so it overlaps with loading the formatter, finding
  // configuration files and walking folders; a failure surfaces where the first file is parsed.
  getPythonParser().catch(() => undefined);
  const formatter = await loadFormatter(opts.format, { color: colorOutput(opts, io) });
  if (!formatter) {
    io.stderr(`bnlint: unknown format "${opts.format}". Use one of: ${formatNames.join(", ")}\n`);
    return 2;
  }
  // Flags that the configuration fills too (input shapes, model arguments) go in `fromFlags`: per model they win over it.
  const fromFlags: LintOptions = {
    ...(opts.inputShape ? { inputShapes: opts.inputShape } : {}),
    ...(opts.modelArgs ? { modelArgs: opts.modelArgs } : {}),
  };
  // Flags that apply to every file as they are.
  const extra: LintOptions = {
    ...(opts.maxFileSize ? { maxFileBytes: opts.maxFileSize } : {}),
    ...(opts.reportUnusedDisableDirectives ? { reportUnusedDisableDirectives: "error" as const } : {}),
    ...(opts.confirm ? { confirm: true } : {}),
  };
  const fix = opts.fix || opts.fixDryRun ? { unsafe: Boolean(opts.unsafeFixes), dryRun: Boolean(opts.fixDryRun) } : undefined;
  let run;
  try {
    const perFile = await setUpConfig({ config: typeof opts.config === "string" ? resolve(io.cwd, opts.config) : opts.config === false ? false : undefined }, fromFlags, opts.rule, rules.map((r) => r.meta.id));
    const cache = opts.cache ? await (await import("./cache.js")).LintCache.open(resolve(io.cwd, opts.cacheLocation)) : undefined;
    const onFile = io.stderrIsTTY && !opts.quiet ? progressBar(io.stderr) : undefined;
    run = await lintPaths({ paths, cwd: io.cwd, perFile, extra, forceExclude: Boolean(opts.forceExclude), fix, cache, onFile, threads: opts.threads ?? defaultThreads() });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr(`bnlint: invalid configuration: ${e.message}\n`);
    return 2;
  }
  const results = run.results;
  for (const error of run.errors) io.stderr(`bnlint: ${error}\n`);
  for (const f of run.fixed) {
    io.stderr(`bnlint: fixed ${f.filePath}:\n${f.titles.map((t) => `  - ${t}\n`).join("")}`);
  }
  if (fix?.dryRun) {
    io.stdout(run.diffs.join(""));
    const n = run.diffs.length;
    io.stderr(n === 0 ? "bnlint: no fixes to apply\n" : `bnlint: ${n} file${n === 1 ? "" : "s"} would change (unsafe fixes included: apply them with --fix --unsafe-fixes)\n`);
    return run.errors.length > 0 ? 2 : n > 0 ? 1 : 0;
  }
  if (opts.verbose) for (const r of results) for (const n of r.notes ?? []) io.stderr(`bnlint: ${r.filePath}: ${n}\n`);
  const shown = opts.quiet ? results.map((r) => countResult(r.filePath, r.messages.filter((m) => m.severity === 2), r.suppressedMessages, r.source, r.notes)) : results;
  const errorCount = results.reduce((n, r) => n + r.errorCount, 0);
  const warningCount = results.reduce((n, r) => n + r.warningCount, 0);
  const tooManyWarnings = opts.maxWarnings >= 0 && warningCount > opts.maxWarnings;
  const color = colorOutput(opts, io);
  const report = opts.statistics ? statistics(shown) : formatter(shown, {
    color,
    cwd: io.cwd,
    rules,
    maxWarningsExceeded: tooManyWarnings ? { maxWarnings: opts.maxWarnings, foundWarnings: warningCount } : undefined,
  });
  if (opts.outputFile) {
    try {
      // Relative to the working directory of the run; missing folders are created, as ESLint does.
      const target = resolve(io.cwd, opts.outputFile);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, report);
    } catch (e) {
      io.stderr(`bnlint: cannot write ${opts.outputFile}: ${(e as Error).message}\n`);
      return 2;
    }
  } else io.stdout(report);
  const internal = results.some((r) => r.messages.some((m) => m.fatal && m.message.startsWith("Internal error")));
  if (internal || run.errors.length > 0) return 2;
  return errorCount > 0 || tooManyWarnings ? 1 : 0;
}

export async function main(): Promise<void> {
  const io: CliIO = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    isTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
  try {
    process.exitCode = await runCli(process.argv.slice(2), io);
  } catch (e) {
    io.stderr(`bnlint: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  }
}

import { resolve } from "node:path";
import { rules as allRules } from "../../rules/index.js";
import type { Rule, RuleContext, RuleSeverity, ReportDescriptor } from "../rule.js";
import { rangeFromIndices, rangeKey, type SourceRange } from "../model/source.js";
import { parsePython } from "../frontend/python/parser.js";
import { indexPython } from "../frontend/python/indexer.js";
import { analyzePython } from "../frontend/python/analyze.js";
import { countResult, type Diagnostic, type LintResult } from "./diagnostic.js";
import { loadSource, oversizeReason, DEFAULT_MAX_FILE_BYTES } from "./source-file.js";
import { applyDirectives, collectDirectives } from "./suppressions.js";
import { syntaxError } from "./syntax-error.js";

/** A constructor argument given for `--confirm`: a number, a string, a boolean, or a list of numbers and strings (a Python tuple). */
/** A constructor argument for --confirm; `{ name }` names a class or function of the linted file (`block=BasicBlock`). */
export type ModelArgValue = number | string | boolean | (number | string)[] | { readonly name: string };
/** Constructor arguments by model class name, then parameter name. */
export type ModelArgs = Record<string, Record<string, ModelArgValue>>;

export interface LintOptions {
  /** Severity per rule id, over each rule's default. */
  rules?: Record<string, RuleSeverity>;
  /** Rules to run (defaults to every rule). */
  ruleSet?: readonly Rule[];
  maxFileBytes?: number;
  /**
   * Input shape per model class name (`{ Net: [1, 3, 32, 32] }`); key `*` applies to every model.
   * Filled from `--input-shape` and from configuration; read by the shape pass and the executor.
   */
  inputShapes?: Record<string, number[]>;
  /** Constructor arguments per model class name (`{ Keras_Cifar2: { rank1: 8, rank2: 16 } }`), for the executor. */
  modelArgs?: ModelArgs;
  /** Add numeric confirmation to each finding (`--confirm`); loads the executor. */
  confirm?: boolean;
  /** Report suppression comments that silenced nothing (`--report-unused-disable-directives`), at this severity. */
  reportUnusedDisableDirectives?: "warning" | "error";
}

/** A quick text test before parsing: a file that never mentions a framework cannot have findings. */
const FRAMEWORK_HINT = /torch|BatchNorm|lightning/;
/** Suppression comments start with one of these words. */
const DIRECTIVE_TEXT = /bnlint:|noqa/;

export function severityOf(rule: Rule, options: LintOptions): RuleSeverity {
  return options.rules?.[rule.meta.id] ?? rule.meta.defaultSeverity;
}

export function fillTemplate(template: string, data: Record<string, string | number> = {}): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => {
    if (!(key in data)) throw new Error(`message placeholder {{${key}}} has no data`);
    return String(data[key]);
  });
}

export function fatalDiagnostic(message: string, range: SourceRange): Diagnostic {
  return { ruleId: null, severity: 2, message, range, related: [], fatal: true };
}

const FILE_START: SourceRange = { start: { line: 1, column: 1 }, end: { line: 1, column: 1 }, startIndex: 0, endIndex: 0 };

/**
 * Lints Python source text. Never throws: bad input and internal failures become fatal diagnostics. Text over
 * `maxFileBytes` (UTF-8, default 5 MB, as for files) is refused unparsed, so every call ends in bounded time.
 */
export async function lintText(text: string, filePath = "<text>", options: LintOptions = {}): Promise<LintResult> {
  const absolute = filePath.startsWith("<") ? filePath : resolve(filePath);
  const tooLarge = oversizeReason(Buffer.byteLength(text, "utf8"), options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  if (tooLarge) return countResult(absolute, [fatalDiagnostic(tooLarge, FILE_START)], []);
  try {
    return await lintSourceText(text, absolute, options, {});
  } catch (e) {
    return countResult(absolute, [fatalDiagnostic(`Internal error while linting: ${(e as Error).message}. Please report it with this file.`, FILE_START)], [], text);
  }
}

/** IPython line magics and shell escapes at the start of a line. Never valid Python there, outside strings. */
const IPYTHON_MAGIC_LINE = /^([ \t]*)[%!]/gm;

/**
 * The text with each IPython magic line (`%matplotlib inline`, `!pip install torch`) turned into a comment of the
 * same length, so every position stays where it was; undefined when there is none. Only tried on a file that does
 * not parse: in valid Python a line may start with `%` (a continued `a\n % b`).
 */
function withoutIpythonMagics(text: string): string | undefined {
  if (!/^[ \t]*[%!]/m.test(text)) return undefined;
  return text.replace(IPYTHON_MAGIC_LINE, "$1#");
}

/** What a partial lint (one unit of a file, see units.ts) knows about the rest of the file. */
export interface PartialContext {
  extraAttributeReads?: (name: string) => number;
}

/** `lintText` for one unit of a larger file: like lintText, with facts about the parts of the file left out. */
export async function lintPartialText(text: string, filePath: string, options: LintOptions, partial: PartialContext): Promise<LintResult> {
  const absolute = filePath.startsWith("<") ? filePath : resolve(filePath);
  try {
    return await lintSourceText(text, absolute, options, partial);
  } catch (e) {
    return countResult(absolute, [fatalDiagnostic(`Internal error while linting: ${(e as Error).message}. Please report it with this file.`, FILE_START)], [], text);
  }
}

async function lintSourceText(text: string, absolute: string, options: LintOptions, partial: PartialContext): Promise<LintResult> {
  if (!FRAMEWORK_HINT.test(text)) return countResult(absolute, [], [], text);
  let tree = await parsePython(text);
  const original = text;
  try {
    let error = syntaxError(tree.rootNode, text);
    const masked = error ? withoutIpythonMagics(text) : undefined;
    if (masked !== undefined) {
      // Code pasted from a notebook: `%matplotlib inline`, `!pip install …` lines are IPython, not Python.
      // Still broken: the error after the magics is the one to report (it sits at the same position).
      const retry = await parsePython(masked);
      error = syntaxError(retry.rootNode, masked);
      tree.delete();
      tree = retry;
      text = masked;
    }
    if (error) return countResult(absolute, [fatalDiagnostic(error.message, error.range)], [], original);
    let index: ReturnType<typeof indexPython> | undefined;
    const getIndex = () => (index ??= indexPython(absolute, text, tree));
    const analysis = analyzePython(getIndex, { text, inputShapes: options.inputShapes, extraAttributeReads: partial.extraAttributeReads });
    const messages: Diagnostic[] = [];
    const seen = new Set<string>();
    for (const rule of options.ruleSet ?? allRules) {
      const severity = severityOf(rule, options);
      if (severity === "off") continue;
      const context: RuleContext = {
        filePath: absolute,
        text,
        get index() {
          return getIndex();
        },
        analysis,
        report(d: ReportDescriptor) {
          const key = `${rule.meta.id}@${rangeKey(d.at)}@${d.subject ?? ""}`;
          if (seen.has(key)) return;
          seen.add(key);
          messages.push(toDiagnostic(rule, severity, d));
        },
      };
      try {
        rule.check(context);
      } catch (e) {
        messages.push({
          ruleId: rule.meta.id,
          severity: 2,
          message: `Internal error in rule ${rule.meta.id}: ${(e as Error).message}. Please report it with this file.`,
          range: FILE_START,
          related: [],
          fatal: true,
        });
      }
    }
    const unusedSeverity = options.reportUnusedDisableDirectives === "error" ? 2 : options.reportUnusedDisableDirectives === "warning" ? 1 : undefined;
    // Comments are only read when the text has a directive at all, and then only on the lines that do.
    const directives = DIRECTIVE_TEXT.test(text) ? collectDirectives(tree.rootNode, text) : [];
    const outcome = applyDirectives(messages, directives, new Set(allRules.map((r) => r.meta.id)), unusedSeverity);
    const byPosition = (a: Diagnostic, b: Diagnostic) => a.range.startIndex - b.range.startIndex || (a.ruleId ?? "").localeCompare(b.ruleId ?? "");
    const shown = [...outcome.messages, ...outcome.unused].sort(byPosition);
    outcome.suppressed.sort(byPosition);
    if (options.confirm) {
      // Loaded only here: the executor pulls in the tensor library.
      const { confirmDiagnostics } = await import("../executor/index.js");
      await confirmDiagnostics(getIndex(), shown, options);
    }
    const notes = index ? analysis.graphs.flatMap((g) => g.notes.map((n) => `${g.modelClass.name}: ${n}`)) : [];
    return countResult(absolute, shown, outcome.suppressed, original, notes);
  } finally {
    tree.delete();
  }
}

function toDiagnostic(rule: Rule, severity: Exclude<RuleSeverity, "off">, d: ReportDescriptor): Diagnostic {
  const template = rule.meta.messages[d.messageId];
  if (template === undefined) throw new Error(`rule ${rule.meta.id} reported unknown messageId ${d.messageId}`);
  if (d.fix && !rule.meta.fixable) throw new Error(`rule ${rule.meta.id} is not fixable but reported a fix`);
  return {
    ruleId: rule.meta.id,
    messageId: d.messageId,
    severity: severity === "error" ? 2 : 1,
    message: fillTemplate(template, d.data),
    range: d.at,
    related: (d.related ?? []).map((r) => ({ message: r.message, range: r.at })),
    fix: d.fix,
    suggestions: d.suggestions,
    model: d.model,
    modulePath: d.modulePath,
  };
}

/** Reads and lints one file; unreadable, binary, oversized and unparsable files become one fatal message. */
export async function lintFile(filePath: string, options: LintOptions = {}): Promise<LintResult> {
  const absolute = resolve(filePath);
  const loaded = await loadSource(absolute, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  if (!loaded.ok) return countResult(absolute, [fatalDiagnostic(loaded.reason, FILE_START)], []);
  try {
    return await lintText(loaded.text, absolute, options);
  } catch (e) {
    const msg = `Internal error while linting: ${(e as Error).message}`;
    return countResult(absolute, [fatalDiagnostic(msg, rangeFromIndices(loaded.text, 0, 0))], [], loaded.text);
  }
}

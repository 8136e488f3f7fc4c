import { reparsePython, type EditableTree, type SyntaxNode } from "../frontend/python/parser.js";
import { countAttributeReads } from "../frontend/python/analyze.js";
import { countResult, type Diagnostic, type LintResult } from "./diagnostic.js";
import { lintPartialText, lintText, type LintOptions } from "./linter.js";
import { relocateDiagnostic, splitIntoUnits, wordsOf, type LintUnit, type TopLevelClass } from "./units.js";
import { DEFAULT_MAX_FILE_BYTES } from "./source-file.js";

/** What grouping and partial lints need of one class; attribute reads are counted only when a partial lint asks. */
interface ClassFacts {
  words: string[];
  reads?: Map<string, number>;
  /** The class's node in the current tree, for counting reads (replaced on every version). */
  node: SyntaxNode;
}

function readsOf(facts: ClassFacts): Map<string, number> {
  facts.reads ??= countAttributeReads(facts.node);
  return facts.reads;
}

interface CachedUnit {
  result: LintResult;
  /** The attribute reads of left-out classes that the lint asked for, by name: valid while they stay the same. */
  readsAsked: Map<string, number>;
}

/** A class statement and its text, or undefined for any other top-level statement. */
function topLevelClass(node: SyntaxNode): (TopLevelClass & { node: SyntaxNode }) | undefined {
  const definition = node.type === "decorated_definition" ? node.childForFieldName("definition") : node;
  if (definition?.type !== "class_definition") return undefined;
  const name = definition.childForFieldName("name")?.text;
  return name ? { name, startIndex: node.startIndex, endIndex: node.endIndex, node } : undefined;
}

/**
 * Lints successive versions of one document (the language server keeps one per open file). Each version is
 * parsed incrementally against the previous tree, split into units (units.ts), and only units whose text changed
 * are linted again; the others reuse their findings. The result is the same as `lintText` on the whole text.
 */
export class IncrementalLinter {
  private tree?: EditableTree;
  private units = new Map<string, CachedUnit>();
  /** Per class text: its words (for grouping) and attribute reads; kept for the classes of the last version. */
  private classFacts = new Map<string, ClassFacts>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** How many units the last lint linted (the others came from the cache); for tests and benchmarks. */
  lastLintedUnits = 0;

  constructor(
    private readonly filePath: string,
    private readonly options: LintOptions = {},
  ) {}

  /** Lints `text`; calls are serialised, so each version is parsed against the one before. */
  lint(text: string): Promise<LintResult> {
    const run = this.queue.then(() => this.lintNow(text));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Frees the parse tree; later calls start from scratch. */
  dispose(): void {
    this.disposed = true;
    this.queue = this.queue.then(() => this.reset());
  }

  private reset(): void {
    this.tree?.delete();
    this.tree = undefined;
    this.units.clear();
    this.classFacts.clear();
  }

  private async lintNow(text: string): Promise<LintResult> {
    const whole = () => {
      this.reset();
      this.lastLintedUnits = 1;
      return lintText(text, this.filePath, this.options);
    };
    // Partial lints would drop the file-wide checks these need; the server never sets them, other callers might.
    if (this.disposed || this.options.confirm || this.options.reportUnusedDisableDirectives) return whole();
    if (Buffer.byteLength(text, "utf8") > (this.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES)) return whole();
    try {
      this.tree = await reparsePython(text, this.tree);
    } catch {
      this.tree = undefined;
      return whole();
    }
    const root = this.tree.rootNode;
    if (root.hasError) {
      // The whole-file lint reports the syntax error; keep the tree for the next edit.
      this.units.clear();
      this.lastLintedUnits = 1;
      return lintText(text, this.filePath, this.options);
    }
    // A statement indented at top level (Python rejects it, tree-sitter does not) would change meaning once the
    // class above it is blanked out: such a file is linted whole.
    const misplaced = root.children.some((c) => c.type !== "comment" && c.startPosition.column !== 0);
    const classes = misplaced ? [] : root.children.map(topLevelClass).filter((c) => c !== undefined);
    const facts = classes.map((c) => this.factsOf(text.slice(c.startIndex, c.endIndex), c.node));
    this.classFacts = new Map(classes.map((c, i) => [text.slice(c.startIndex, c.endIndex), facts[i]]));
    const units = splitIntoUnits(text, classes, (i) => facts[i].words);

    const nextUnits = new Map<string, CachedUnit>();
    const results: { unit: LintUnit; result: LintResult }[] = [];
    let linted = 0;
    for (const unit of units) {
      const kept = new Set(unit.classes);
      const extraReads = (name: string): number => {
        let n = 0;
        facts.forEach((f, i) => {
          if (!kept.has(i)) n += readsOf(f).get(name) ?? 0;
        });
        return n;
      };
      let cached = this.units.get(unit.text) ?? nextUnits.get(unit.text);
      if (cached && [...cached.readsAsked].some(([name, n]) => extraReads(name) !== n)) cached = undefined;
      if (!cached) {
        const readsAsked = new Map<string, number>();
        const partial = { extraAttributeReads: (name: string) => {
          const n = extraReads(name);
          readsAsked.set(name, n);
          return n;
        } };
        const result = await lintPartialText(unit.text, this.filePath, this.options, unit.replaced.length > 0 ? partial : {});
        cached = { result, readsAsked };
        linted++;
      }
      nextUnits.set(unit.text, cached);
      results.push({ unit, result: cached.result });
    }
    this.units = nextUnits;
    this.lastLintedUnits = linted;
    return mergeUnitResults(text, this.filePath, results);
  }

  private factsOf(classText: string, node: SyntaxNode): ClassFacts {
    const known = this.classFacts.get(classText);
    if (!known) return { words: wordsOf(classText), node };
    known.node = node;
    return known;
  }
}

const byPosition = (a: Diagnostic, b: Diagnostic) => a.range.startIndex - b.range.startIndex || (a.ruleId ?? "").localeCompare(b.ruleId ?? "");

/**
 * The findings of all units in file coordinates. A finding in shared code can come from several units (each
 * sees the shared statements): as the whole-file lint keeps the first report of a rule at a place, the earliest
 * unit's wins.
 */
function mergeUnitResults(text: string, filePath: string, results: { unit: LintUnit; result: LintResult }[]): LintResult {
  if (results.length === 1 && results[0].unit.replaced.length === 0) return { ...results[0].result, source: text };
  const collect = (pick: (r: LintResult) => Diagnostic[]): Diagnostic[] => {
    const seen = new Set<string>();
    const out: Diagnostic[] = [];
    for (const { unit, result } of results) {
      for (const d of pick(result)) {
        const moved = relocateDiagnostic(unit, d);
        const key = `${d.ruleId}@${moved.range.startIndex}:${moved.range.endIndex}${d.fatal ? `:${d.message}` : ""}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(moved);
      }
    }
    return out.sort(byPosition);
  };
  const messages = collect((r) => r.messages);
  const suppressed = collect((r) => r.suppressedMessages);
  const notes = [...new Set(results.flatMap(({ result }) => result.notes ?? []))];
  return countResult(filePath.startsWith("<") ? filePath : results[0].result.filePath, messages, suppressed, text, notes);
}

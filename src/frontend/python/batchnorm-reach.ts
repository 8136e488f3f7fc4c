/**
 * Which model classes can hold a BatchNorm, decided from the text before any interpretation. Every BatchNorm
 * the analysis can create is spelled "BatchNorm" somewhere in the file (knowledge.ts lists no other name), so a
 * class can only get one through that spelling in its own text or through a top-level name (function, class,
 * global, import alias) whose definition reaches it. Graph rules are about BatchNorm models, so the classes that
 * cannot reach one need no forward graph. Building those graphs was most of the lint time of files like
 * torchvision's MViT, whose only "BatchNorm" is an `isinstance` test.
 */
import type { SyntaxNode } from "./parser.js";
import type { ModelClass, ModelIndex } from "../../model/index-types.js";

const WORD = /[A-Za-z_]\w*/g;
const DEFINITIONS = new Set(["class_definition", "function_definition"]);
/** Calls that only test a type: `isinstance(m, nn.BatchNorm2d)` creates nothing. */
const TYPE_TESTS = new Set(["isinstance", "issubclass"]);

/** A "BatchNorm" mention that cannot create a module: a comment, a docstring, a type test, an error message. */
function isInert(node: SyntaxNode): boolean {
  for (let n: SyntaxNode | null = node, up = 0; n && up < 8; n = n.parent, up++) {
    if (n.type === "comment") return true;
    if (n.type === "string" && n.parent?.type === "expression_statement") return true;
    if (n.type === "raise_statement" || n.type === "assert_statement") return true;
    if (n.type === "argument_list" && TYPE_TESTS.has(n.parent?.childForFieldName("function")?.text ?? "")) return true;
  }
  return false;
}

/** Start offsets of the file's "BatchNorm" mentions that may create a module. */
export function liveBatchNormMentions(root: SyntaxNode, text: string): number[] {
  const live: number[] = [];
  for (const m of text.matchAll(/BatchNorm/g)) {
    if (!isInert(root.descendantForIndex(m.index!))) live.push(m.index!);
  }
  return live;
}

/** Module-level compound statements whose blocks are read statement by statement. */
const COMPOUND = new Set(["if_statement", "try_statement", "elif_clause", "else_clause", "except_clause", "finally_clause", "block"]);

/** The names a top-level statement binds, or undefined when it may bind any name it mentions. */
function boundNames(stmt: SyntaxNode): string[] | undefined {
  const def = stmt.type === "decorated_definition" ? stmt.childForFieldName("definition") : stmt;
  if (def && DEFINITIONS.has(def.type)) {
    const name = def.childForFieldName("name");
    return name ? [name.text] : [];
  }
  if (stmt.type === "import_statement" || stmt.type === "import_from_statement") {
    return stmt.childrenForFieldName("name").map((n) => {
      if (n.type === "aliased_import") return n.childForFieldName("alias")?.text ?? n.text;
      return stmt.type === "import_statement" ? n.text.split(".")[0] : n.text;
    });
  }
  const assignment = stmt.type === "expression_statement" ? stmt.namedChildren[0] : undefined;
  if (assignment?.type === "assignment" || assignment?.type === "augmented_assignment") {
    const left = assignment.childForFieldName("left");
    return left ? (left.text.match(WORD) ?? []) : undefined;
  }
  if (COMPOUND.has(stmt.type)) {
    // `try: from apex import SyncBatchNorm as Norm / except ImportError: Norm = nn.BatchNorm2d` binds `Norm`;
    // conditions and exception types bind nothing, and `except ... as e` binds a name no class reads.
    const names: string[] = [];
    for (const part of stmt.namedChildren) {
      if (!part || part.type === "comment") continue;
      if (!COMPOUND.has(part.type) && stmt.type !== "block") continue;
      const inner = boundNames(part);
      if (inner === undefined) return undefined;
      names.push(...inner);
    }
    return names;
  }
  return undefined; // for/with/while at module level, a bare call: anything it names may change
}

interface Unit {
  readonly node: SyntaxNode;
  reaches: boolean;
}

const isWordChar = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127;

/** Start offsets of `name` as a whole word in `text`. */
function* wordOccurrences(text: string, name: string): Generator<number> {
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + name.length)) {
    if (!isWordChar(text.charCodeAt(i - 1)) && !isWordChar(text.charCodeAt(i + name.length))) yield i;
  }
}

/**
 * The model classes whose text reaches a BatchNorm, directly or through top-level names: a breadth-first walk
 * from the statements that spell a live "BatchNorm" to every statement that mentions a name they bind. Names are
 * found by text search, so a file pays for the few names that matter rather than for a word list of every line.
 */
export function classesReachingBatchNorm(index: ModelIndex): Set<ModelClass> {
  const root = index.tree.rootNode;
  const text = index.text;
  const units: Unit[] = root.namedChildren.filter((n) => n.type !== "comment").map((node) => ({ node, reaches: false }));
  const unitAt = (offset: number): Unit | undefined => {
    let lo = 0;
    let hi = units.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = units[mid];
      if (offset < u.node.startIndex) hi = mid - 1;
      else if (offset >= u.node.endIndex) lo = mid + 1;
      else return u;
    }
    return undefined;
  };
  const queue: Unit[] = [];
  const reach = (u: Unit | undefined): void => {
    if (u && !u.reaches) {
      u.reaches = true;
      queue.push(u);
    }
  };
  for (const offset of liveBatchNormMentions(root, text)) reach(unitAt(offset));
  const seenNames = new Set<string>();
  while (queue.length > 0) {
    const u = queue.pop()!;
    const binds = boundNames(u.node) ?? text.slice(u.node.startIndex, u.node.endIndex).match(WORD) ?? [];
    for (const name of binds) {
      if (seenNames.has(name)) continue;
      seenNames.add(name);
      for (const offset of wordOccurrences(text, name)) reach(unitAt(offset));
    }
  }
  // A class inside a compound statement (`if`, `try`) gets that statement's answer, which covers its text.
  return new Set(index.classes.filter((cls) => unitAt(cls.range.startIndex)?.reaches ?? true));
}

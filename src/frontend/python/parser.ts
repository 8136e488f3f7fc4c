import { createRequire } from "node:module";
import type { Parser as ParserType } from "web-tree-sitter";
import { PyNode } from "./cst.js";

export type SyntaxNode = PyNode;
/** A parsed file. Its nodes read the wasm tree lazily (see cst.ts): call `delete()` when done with it. */
export interface Tree {
  readonly rootNode: PyNode;
  delete(): void;
}

const namedById = new Map<number, boolean>();

let parserPromise: Promise<ParserType> | undefined;

/** Loads web-tree-sitter and the Python grammar once per process, on first use. */
export function getPythonParser(): Promise<ParserType> {
  parserPromise ??= (async () => {
    const { Parser, Language } = await import("web-tree-sitter");
    const require = createRequire(import.meta.url);
    await Parser.init();
    const language = await Language.load(require.resolve("tree-sitter-python/tree-sitter-python.wasm"));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

/** Parses Python source. tree-sitter is error tolerant: a tree always comes back, with ERROR nodes. */
export async function parsePython(text: string): Promise<Tree> {
  const parser = await getPythonParser();
  const tree = parser.parse(text);
  if (!tree) throw new Error("tree-sitter returned no tree");
  return { rootNode: PyNode.root(tree, text, namedById), delete: () => tree.delete() };
}

/** A parse that can be updated in place: the language server re-parses each edit against the previous tree. */
export interface EditableTree extends Tree {
  readonly text: string;
}

interface EditableTreeImpl extends EditableTree {
  raw: import("web-tree-sitter").Tree;
}

function pointAt(text: string, index: number): { row: number; column: number } {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: index - lineStart };
}

/**
 * Parses `text`, reusing `previous` (tree-sitter's incremental parsing: only the edited region is re-parsed).
 * The edit is found as the span between the common prefix and suffix of the two texts. `previous` is consumed:
 * it is edited and deleted here, so callers keep only the returned tree.
 */
export async function reparsePython(text: string, previous?: EditableTree): Promise<EditableTree> {
  const parser = await getPythonParser();
  const old = previous as EditableTreeImpl | undefined;
  let raw;
  if (old) {
    const before = old.text;
    const max = Math.min(before.length, text.length);
    let start = 0;
    while (start < max && before.charCodeAt(start) === text.charCodeAt(start)) start++;
    let suffix = 0;
    while (suffix < max - start && before.charCodeAt(before.length - 1 - suffix) === text.charCodeAt(text.length - 1 - suffix)) suffix++;
    const oldEnd = before.length - suffix;
    const newEnd = text.length - suffix;
    old.raw.edit({
      startIndex: start,
      oldEndIndex: oldEnd,
      newEndIndex: newEnd,
      startPosition: pointAt(before, start),
      oldEndPosition: pointAt(before, oldEnd),
      newEndPosition: pointAt(text, newEnd),
    });
    raw = parser.parse(text, old.raw);
    old.raw.delete();
  } else {
    raw = parser.parse(text);
  }
  if (!raw) throw new Error("tree-sitter returned no tree");
  const tree = raw;
  const result: EditableTreeImpl = { text, raw: tree, rootNode: PyNode.root(tree, text, namedById), delete: () => tree.delete() };
  return result;
}

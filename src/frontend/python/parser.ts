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

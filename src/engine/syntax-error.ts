import type { SyntaxNode } from "../frontend/python/parser.js";
import { rangeFromIndices, rangeOf, type SourceRange } from "../model/source.js";

/** CPython's tokenizer keeps at most 100 indentation levels, the top level included (`MAXINDENT`). */
const PYTHON_MAX_INDENT_LEVELS = 100;

function firstErrorNode(root: SyntaxNode): SyntaxNode {
  const queue: SyntaxNode[] = [root];
  while (queue.length > 0) {
    const n = queue.shift()!;
    if (n.type === "ERROR" || n.isMissing) return n;
    for (const c of n.children) if (c && (c.hasError || c.isMissing)) queue.push(c);
  }
  return root;
}

/**
 * The start of the first line indented deeper than Python allows (a stack of indentation widths, as the tokenizer
 * keeps). tree-sitter gives up on such files with one ERROR over everything, which would point at line 1.
 */
function tooDeepIndentation(text: string): number | undefined {
  const widths = [0];
  let index = 0;
  for (const line of text.split("\n")) {
    const width = line.length - line.trimStart().length;
    const content = line.trim();
    if (content !== "" && !content.startsWith("#")) {
      while (width < widths[widths.length - 1]) widths.pop();
      if (width > widths[widths.length - 1]) widths.push(width);
      if (widths.length > PYTHON_MAX_INDENT_LEVELS) return index;
    }
    index += line.length + 1;
  }
  return undefined;
}

/** The fatal message and place for a file that does not parse, or undefined when it parses. */
export function syntaxError(root: SyntaxNode, text: string): { message: string; range: SourceRange } | undefined {
  if (!root.hasError) return undefined;
  const deep = tooDeepIndentation(text);
  if (deep !== undefined) {
    return {
      message: `Parsing error: too many levels of indentation (Python allows ${PYTHON_MAX_INDENT_LEVELS}, the top level included); the file was not analysed`,
      range: rangeFromIndices(text, deep, deep),
    };
  }
  const error = firstErrorNode(root);
  const what = error.isMissing ? `missing \`${error.type}\`` : `unexpected \`${error.text.split("\n")[0].slice(0, 40)}\``;
  return { message: `Parsing error: invalid Python syntax (${what}); the file was not analysed`, range: rangeOf(error) };
}

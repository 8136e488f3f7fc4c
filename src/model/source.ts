/** Source locations. Lines and columns are 1-based; columns and indices count UTF-16 code units, as JS strings,
 * ESLint and LSP do. `startIndex`/`endIndex` index into the file text, so fixes can splice it directly. */
export interface Position {
  line: number;
  column: number;
}

export interface SourceRange {
  start: Position;
  end: Position;
  startIndex: number;
  endIndex: number;
}

/** The subset of a tree-sitter node that ranges are built from (kept structural so tests can fake it). */
export interface RangeLike {
  startIndex: number;
  endIndex: number;
  startPosition: { row: number; column: number };
  endPosition: { row: number; column: number };
}

export function rangeOf(node: RangeLike & { range?: SourceRange }): SourceRange {
  if (node.range) return node.range; // syntax nodes cache their range
  return {
    start: { line: node.startPosition.row + 1, column: node.startPosition.column + 1 },
    end: { line: node.endPosition.row + 1, column: node.endPosition.column + 1 },
    startIndex: node.startIndex,
    endIndex: node.endIndex,
  };
}

export function rangeKey(r: SourceRange): string {
  return `${r.startIndex}:${r.endIndex}`;
}

export function compareRanges(a: SourceRange, b: SourceRange): number {
  return a.startIndex - b.startIndex || a.endIndex - b.endIndex;
}

/** Line/column for an index in `text` (used for ranges that did not come from the parser). */
export function positionAt(text: string, index: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}

export function rangeFromIndices(text: string, startIndex: number, endIndex: number): SourceRange {
  return { start: positionAt(text, startIndex), end: positionAt(text, endIndex), startIndex, endIndex };
}

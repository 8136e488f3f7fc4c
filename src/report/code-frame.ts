import type { SourceRange } from "../model/source.js";

export interface FrameStyle {
  gutter(s: string): string;
  marker(s: string): string;
}

const PLAIN: FrameStyle = { gutter: (s) => s, marker: (s) => s };

/** A code frame like Babel's: the lines of `range` with one line of context and carets under the range. */
export function codeFrame(text: string, range: SourceRange, style: FrameStyle = PLAIN, context = 1): string {
  const lines = text.split(/\r\n|\r|\n/);
  const first = Math.max(1, range.start.line - context);
  const lastLineOfRange = Math.min(range.end.line, range.start.line + 4);
  const last = Math.min(lines.length, lastLineOfRange + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const line = (lines[n - 1] ?? "").replace(/\t/g, "    ");
    const inRange = n >= range.start.line && n <= lastLineOfRange;
    const gutter = `${inRange ? ">" : " "} ${String(n).padStart(width)} |`;
    out.push(`${style.gutter(gutter)}${line.length ? " " + line : ""}`);
    if (inRange) {
      const raw = lines[n - 1] ?? "";
      const startCol = n === range.start.line ? range.start.column - 1 : raw.search(/\S|$/);
      const endCol = n === range.end.line ? range.end.column - 1 : raw.length;
      const pad = raw.slice(0, startCol).replace(/\t/g, "    ").replace(/[^\s]/g, " ");
      const len = Math.max(1, raw.slice(startCol, Math.max(startCol, endCol)).replace(/\t/g, "    ").length);
      out.push(`${style.gutter(`  ${" ".repeat(width)} |`)} ${pad}${style.marker("^".repeat(len))}`);
    }
  }
  return out.join("\n");
}

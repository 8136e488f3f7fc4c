/**
 * Text edits that insert bnlint's suppression comments: `# bnlint: disable=<id>` at the end of a line and
 * `# bnlint: disable-file=<id>` near the top of the file. Honouring them is the linter's job.
 */

export interface LineEdit {
  /** 0-based line and UTF-16 column, as LSP positions. */
  line: number;
  character: number;
  text: string;
}

const LINE_DIRECTIVE = /#\s*bnlint:\s*disable=([\w-]+(?:\s*,\s*[\w-]+)*)/;
const FILE_DIRECTIVE = /^#\s*bnlint:\s*disable-file=([\w-]+(?:\s*,\s*[\w-]+)*)/;

function listed(list: string, ruleId: string): boolean {
  return list.split(",").some((id) => id.trim() === ruleId);
}

function splitLines(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/\r$/, ""));
}

/** The edit that disables `ruleId` on `line` (0-based), or undefined when it already is. */
export function disableForLine(text: string, line: number, ruleId: string): LineEdit | undefined {
  const lineText = splitLines(text)[line];
  if (lineText === undefined) return undefined;
  const existing = LINE_DIRECTIVE.exec(lineText);
  if (existing) {
    if (listed(existing[1], ruleId)) return undefined;
    return { line, character: existing.index + existing[0].length, text: `,${ruleId}` };
  }
  return { line, character: lineText.trimEnd().length, text: `  # bnlint: disable=${ruleId}` };
}

/** The edit that disables `ruleId` for the whole file, or undefined when it already is. */
export function disableForFile(text: string, ruleId: string): LineEdit | undefined {
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const m = FILE_DIRECTIVE.exec(lines[i]);
    if (!m) continue;
    if (listed(m[1], ruleId)) return undefined;
    return { line: i, character: m[0].length, text: `,${ruleId}` };
  }
  // Below a shebang and an encoding declaration, which Python only honours on the first two lines.
  let line = 0;
  if (lines[0]?.startsWith("#!")) line = 1;
  if (line < 2 && /^[ \t\f]*#.*?coding[:=]/.test(lines[line] ?? "")) line++;
  return { line, character: 0, text: `# bnlint: disable-file=${ruleId}\n` };
}

import type { Formatter } from "./formatter.js";
import { codeFrame } from "./code-frame.js";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The styles stylish uses, chalk's or plain ones. */
interface Styles {
  underline(s: string): string;
  red: ((s: string) => string) & { bold(s: string): string };
  yellow: ((s: string) => string) & { bold(s: string): string };
  dim(s: string): string;
  cyan(s: string): string;
}

const same = (s: string): string => s;
/** Output without colour (a pipe, a file, CI logs): no styling, and chalk (with `tty`) is not even loaded. */
const PLAIN: Styles = { underline: same, red: Object.assign((s: string) => s, { bold: same }), yellow: Object.assign((s: string) => s, { bold: same }), dim: same, cyan: same };
let colored: Styles | undefined;

/** Loads chalk for a coloured run; called by the CLI before formatting when colour is on. */
export async function loadColors(): Promise<void> {
  const { Chalk } = await import("chalk");
  colored ??= new Chalk({ level: 1 }) as Styles;
}

/** ESLint's stylish layout, with a code frame under each message. */
export const stylish: Formatter = (results, context) => {
  const c = context.color && colored ? colored : PLAIN;
  let errors = 0;
  let warnings = 0;
  let fixableErrors = 0;
  let fixableWarnings = 0;
  const out: string[] = [];
  for (const result of results) {
    if (result.messages.length === 0) continue;
    errors += result.errorCount;
    warnings += result.warningCount;
    fixableErrors += result.fixableErrorCount;
    fixableWarnings += result.fixableWarningCount;
    out.push("", c.underline(result.filePath));
    for (const m of result.messages) {
      const sev = m.severity === 2 ? c.red("error") : c.yellow("warning");
      const where = c.dim(`${m.range.start.line}:${m.range.start.column}`);
      out.push(`  ${where}  ${sev}  ${m.message}  ${c.dim(m.ruleId ?? "")}`.trimEnd());
      if (result.source !== undefined && !m.fatal) {
        const frame = codeFrame(result.source, m.range, { gutter: (s) => c.dim(s), marker: (s) => (m.severity === 2 ? c.red(s) : c.yellow(s)) });
        out.push(frame.replace(/^/gm, "    "));
      }
      for (const r of m.related) out.push(c.dim(`    ↳ ${r.range.start.line}:${r.range.start.column}  ${r.message}`));
      if (m.confirmation) out.push(`    ${c.cyan(m.confirmation.status)}: ${m.confirmation.summary}`);
    }
  }
  const total = errors + warnings;
  if (total > 0) {
    const summary = `✖ ${plural(total, "problem")} (${plural(errors, "error")}, ${plural(warnings, "warning")})`;
    out.push("", (errors > 0 ? c.red.bold(summary) : c.yellow.bold(summary)));
    if (fixableErrors + fixableWarnings > 0) {
      out.push(c.dim(`  ${plural(fixableErrors, "error")} and ${plural(fixableWarnings, "warning")} potentially fixable with the \`--fix --unsafe-fixes\` option.`));
    }
  }
  if (context.maxWarningsExceeded) {
    const { maxWarnings, foundWarnings } = context.maxWarningsExceeded;
    out.push("", c.red(`bnlint found too many warnings (maximum: ${maxWarnings}, found: ${foundWarnings}).`));
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "";
};

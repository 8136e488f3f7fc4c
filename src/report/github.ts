import type { Formatter } from "./formatter.js";
import { displayPath } from "./paths.js";

// GitHub workflow commands: data and property values are percent-escaped so a message can hold any text.
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** One `::error`/`::warning` workflow command per message, which GitHub Actions shows as an annotation on the line. */
export const github: Formatter = (results, context) => {
  const out: string[] = [];
  for (const result of results) {
    const file = displayPath(result.filePath, context.cwd);
    for (const m of result.messages) {
      const command = m.severity === 2 ? "error" : "warning";
      const props = [
        `file=${escapeProperty(file)}`,
        `line=${m.range.start.line}`,
        `col=${m.range.start.column}`,
        `endLine=${m.range.end.line}`,
        `endColumn=${m.range.end.column}`,
        `title=${escapeProperty(m.ruleId ? `bnlint (${m.ruleId})` : "bnlint")}`,
      ];
      out.push(`::${command} ${props.join(",")}::${escapeData(m.message)}`);
    }
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "";
};

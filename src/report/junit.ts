import type { Formatter } from "./formatter.js";
import { displayPath } from "./paths.js";

// Characters XML 1.0 cannot hold at all are dropped; the five special ones are escaped.
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** JUnit XML: one testcase per linted file, a `<failure>` per finding (`<error>` for files that could not be linted). */
export const junit: Formatter = (results, context) => {
  let failures = 0;
  let errors = 0;
  const cases: string[] = [];
  for (const result of results) {
    const file = xml(displayPath(result.filePath, context.cwd));
    const body: string[] = [];
    for (const m of result.messages) {
      const where = `${m.range.start.line}:${m.range.start.column}`;
      const kind = m.fatal ? "error" : "failure";
      if (m.fatal) errors++;
      else failures++;
      const type = m.ruleId ?? "fatal";
      const severity = m.severity === 2 ? "error" : "warning";
      body.push(`      <${kind} type="${xml(type)}" message="${xml(`${where} ${m.message}`)}">${xml(`${severity} at ${file}:${where} (${type})\n${m.message}`)}</${kind}>`);
    }
    const open = `    <testcase classname="bnlint" name="${file}" file="${file}" time="0"`;
    cases.push(body.length === 0 ? `${open} />` : `${open}>\n${body.join("\n")}\n    </testcase>`);
  }
  const counts = `tests="${results.length}" failures="${failures}" errors="${errors}"`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="bnlint" ${counts}>`,
    `  <testsuite name="bnlint" ${counts} skipped="0" time="0">`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
};

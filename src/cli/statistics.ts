import type { LintResult } from "../engine/diagnostic.js";

/** `--statistics`: problems per rule, most frequent first, as Ruff prints them. */
export function statistics(results: LintResult[]): string {
  const counts = new Map<string, { n: number; fixable: number }>();
  for (const r of results) {
    for (const m of r.messages) {
      const id = m.ruleId ?? (m.fatal ? "fatal" : "unused-directive");
      const c = counts.get(id) ?? { n: 0, fixable: 0 };
      c.n++;
      if (m.fix) c.fixable++;
      counts.set(id, c);
    }
  }
  const rows = [...counts].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]));
  if (rows.length === 0) return "";
  const width = Math.max(...rows.map(([, c]) => String(c.n).length));
  const idWidth = Math.max(...rows.map(([id]) => id.length));
  return rows.map(([id, c]) => `${String(c.n).padStart(width)}  ${id.padEnd(idWidth)}  ${c.fixable > 0 ? `[${c.fixable} fixable]` : ""}`.trimEnd()).join("\n") + "\n";
}

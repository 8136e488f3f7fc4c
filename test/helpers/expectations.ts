import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** `# expect: [rule-a, rule-b]` markers: rule ids expected on that line. */
export function readExpectations(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /#\s*expect:\s*\[([^\]]*)\]/.exec(line);
    if (m) out.set(i + 1, m[1].split(",").map((s) => s.trim()).filter(Boolean).sort());
  });
  return out;
}

export function findingsByLine(messages: { ruleId: string | null; range: { start: { line: number } } }[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const m of messages) {
    const list = out.get(m.range.start.line) ?? [];
    list.push(m.ruleId ?? "fatal");
    out.set(m.range.start.line, list);
  }
  for (const [k, v] of out) out.set(k, v.sort());
  return out;
}

/** Every fixture file below `dir`, sorted. */
export function fixtureFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(".py")) out.push(full);
    }
  };
  walk(dir);
  return out;
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

/**
 * Fixture folders that hold model definitions only (importing them runs nothing). Tests that import fixtures into
 * real PyTorch use these; training-script fixtures (missing-eval, batch size one) run code at import.
 */
export const MODEL_FIXTURE_FOLDERS = ["seed", "reused-batchnorm", "unused-batchnorm", "batchnorm-on-logits", "clean"];

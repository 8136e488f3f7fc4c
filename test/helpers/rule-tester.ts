import { describe, expect, it } from "vitest";
import type { Rule } from "../../src/rule.js";
import { lintText } from "../../src/index.js";

export interface ExpectedError {
  messageId: string;
  line: number;
  column?: number;
  /** A substring the message must contain. */
  messageIncludes?: string | string[];
}

export interface InvalidCase {
  name?: string;
  code: string;
  errors: ExpectedError[];
}

export interface ValidCase {
  name?: string;
  code: string;
}

/** Strips the common indentation of a template literal so cases can be indented in the test file. */
export function py(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = String.raw({ raw: strings }, ...values).replace(/^\n/, "");
  const lines = raw.split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join("\n").trimEnd() + "\n";
}

/**
 * Runs one rule over valid and invalid cases, like ESLint's RuleTester: valid code must produce nothing,
 * invalid code exactly the listed errors (message id, line, column). Duplicate cases and cases without
 * errors are refused, so a test cannot silently check nothing.
 */
export function runRuleTests(rule: Rule, cases: { valid: (string | ValidCase)[]; invalid: InvalidCase[] }): void {
  // The rule under test runs even when it is opt-in (default "off").
  const options = { ruleSet: [rule], rules: { [rule.meta.id]: rule.meta.defaultSeverity === "off" ? "warning" as const : rule.meta.defaultSeverity } };
  const seen = new Set<string>();
  const checkUnique = (code: string): void => {
    if (seen.has(code)) throw new Error(`duplicate test case for ${rule.meta.id}:\n${code}`);
    seen.add(code);
  };
  describe(rule.meta.id, () => {
    describe("valid", () => {
      cases.valid.forEach((c, i) => {
        const vc = typeof c === "string" ? { code: c } : c;
        checkUnique(vc.code);
        it(vc.name ?? `valid #${i + 1}`, async () => {
          const result = await lintText(vc.code, "case.py", options);
          expect(result.messages.map((m) => `${m.range.start.line}: ${m.message}`)).toEqual([]);
        });
      });
    });
    describe("invalid", () => {
      cases.invalid.forEach((c, i) => {
        checkUnique(c.code);
        if (c.errors.length === 0) throw new Error(`invalid case without errors for ${rule.meta.id}`);
        for (const e of c.errors) if (!(e.messageId in rule.meta.messages)) throw new Error(`unknown messageId ${e.messageId}`);
        it(c.name ?? `invalid #${i + 1}`, async () => {
          const result = await lintText(c.code, "case.py", options);
          expect(result.messages.filter((m) => m.fatal)).toEqual([]);
          const actual = result.messages.map((m) => ({ messageId: m.messageId, line: m.range.start.line, column: m.range.start.column }));
          const expected = c.errors.map((e, j) => ({ messageId: e.messageId, line: e.line, column: e.column ?? actual[j]?.column }));
          expect(actual).toEqual(expected);
          c.errors.forEach((e, j) => {
            const parts = e.messageIncludes === undefined ? [] : Array.isArray(e.messageIncludes) ? e.messageIncludes : [e.messageIncludes];
            for (const part of parts) expect(result.messages[j].message).toContain(part);
            expect(result.messages[j].message).not.toMatch(/\{\{|\}\}/);
          });
        });
      });
    });
  });
}

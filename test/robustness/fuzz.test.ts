import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { lintText } from "../../src/index.js";
import { rules } from "../../rules/index.js";
import { loadFormatter } from "../../src/report/index.js";
import type { LintResult } from "../../src/engine/diagnostic.js";
import { fixtureFiles, readText } from "../helpers/expectations.js";
import { generatedModel, mutationOf } from "../helpers/mutations.js";

// Property-based robustness: broken and generated sources never make bnlint throw, and whatever it reports is
// well formed and renders. Run counts scale with BNLINT_FUZZ_SCALE (default 1; `npm run bench` runs a larger sweep).
const scale = Number(process.env.BNLINT_FUZZ_SCALE ?? 1);
const fixtures = fixtureFiles(new URL("../../fixtures/", import.meta.url).pathname).map(readText);
const TORCHVISION = "/usr/lib/python3/dist-packages/torchvision/models";
const ruleIds = new Set(rules.map((r) => r.meta.id));
let inputsRun = 0;

function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === "__pycache__" ? [] : pythonFiles(full);
    return name.endsWith(".py") ? [full] : [];
  });
}

/** What every result must satisfy, whatever the input. */
async function checkResult(text: string, result: LintResult): Promise<void> {
  inputsRun++;
  for (const m of result.messages) {
    expect(m.message, "an internal error is a crash").not.toMatch(/^Internal error/);
    if (m.ruleId === null) expect(m.fatal).toBe(true);
    else expect(ruleIds.has(m.ruleId)).toBe(true);
    for (const r of [m.range, ...m.related.map((x) => x.range)]) {
      expect(r.start.line).toBeGreaterThanOrEqual(1);
      expect(r.startIndex).toBeGreaterThanOrEqual(0);
      expect(r.endIndex).toBeGreaterThanOrEqual(r.startIndex);
      expect(r.endIndex).toBeLessThanOrEqual(text.length);
    }
  }
  const stylish = (await loadFormatter("stylish"))!;
  const json = (await loadFormatter("json"))!;
  const context = { color: false, cwd: "/", rules };
  expect(typeof stylish([result], context)).toBe("string");
  expect(JSON.parse(json([result], context))[0].messages).toHaveLength(result.messages.length);
}

describe("fuzz: mutated fixtures", () => {
  it("truncations, byte flips, token shuffles and line edits of every fixture", async () => {
    const input = fc.nat({ max: fixtures.length - 1 }).chain((i) => mutationOf(fixtures[i]));
    await fc.assert(
      fc.asyncProperty(input, async (text) => checkResult(text, await lintText(text, "fuzz.py"))),
      { numRuns: Math.round(300 * scale) },
    );
  });
});

describe.skipIf(!existsSync(TORCHVISION))("fuzz: mutated torchvision sources", () => {
  it("mutations of torchvision's model files", async () => {
    const sources = pythonFiles(TORCHVISION).sort().map((f) => readFileSync(f, "utf8"));
    const input = fc.nat({ max: sources.length - 1 }).chain((i) => mutationOf(sources[i]));
    await fc.assert(
      fc.asyncProperty(input, async (text) => checkResult(text, await lintText(text, "fuzz.py"))),
      { numRuns: Math.round(40 * scale) },
    );
  });
});

describe("fuzz: generated models", () => {
  it("random mixes of declarations, calls, loops, branches, helpers and containers", async () => {
    await fc.assert(
      fc.asyncProperty(generatedModel, async (text) => {
        const first = await lintText(text, "gen.py");
        await checkResult(text, first);
        // Deterministic: a second run reports the same findings.
        const again = await lintText(text, "gen.py");
        expect(again.messages.map((m) => m.message)).toEqual(first.messages.map((m) => m.message));
        // The generated code is valid Python: it never gets a parse error.
        expect(first.messages.filter((m) => m.fatal)).toEqual([]);
      }),
      { numRuns: Math.round(150 * scale) },
    );
  });
});

afterAll(() => {
  console.log(`fuzz: ${inputsRun} generated inputs linted`);
});

import { describe, expect, it } from "vitest";
import { relative } from "node:path";
import { lintText } from "../src/index.js";
import { findingsByLine, fixtureFiles, readExpectations, readText } from "./helpers/expectations.js";
import { rules } from "../rules/index.js";

/** Opt-in rules (default "off") do not run here; `opt-in-fixtures.test.ts` runs their fixtures with them enabled. */
const optIn = new Set(rules.filter((r) => r.meta.defaultSeverity === "off").map((r) => r.meta.id));

const root = new URL("../fixtures/", import.meta.url).pathname;

// Every finding has a marker and every marker a finding: silence is tested as hard as detection.
describe("fixtures", () => {
  for (const file of fixtureFiles(root)) {
    // Shape and evaluation-mode fixtures need their own issues' rules; they are checked in their own tests.
    it(relative(root, file), async () => {
      const text = readText(file);
      const result = await lintText(text, file);
      const actual = Object.fromEntries(findingsByLine(result.messages));
      const expected = Object.fromEntries([...readExpectations(text)].map(([line, ids]) => [line, ids.filter((id) => !optIn.has(id))]).filter(([, ids]) => ids.length > 0));
      expect(actual).toEqual(expected);
    });
  }
});

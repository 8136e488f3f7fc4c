import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { lintText } from "../src/index.js";
import { rules } from "../rules/index.js";
import { findingsByLine, fixtureFiles, readExpectations, readText } from "./helpers/expectations.js";

const root = new URL("../fixtures/", import.meta.url).pathname;

// Opt-in rules, enabled, on their own fixture folder: findings and markers must match both ways. (Other folders
// hold real-looking code that an opt-in rule may rightly flag without carrying its markers.)
for (const rule of rules.filter((r) => r.meta.defaultSeverity === "off")) {
  describe(`fixtures with opt-in ${rule.meta.id} enabled`, () => {
    it("has a fixture folder", () => expect(existsSync(`${root}${rule.meta.id}`)).toBe(true));
    for (const file of existsSync(`${root}${rule.meta.id}`) ? fixtureFiles(`${root}${rule.meta.id}`) : []) {
      it(relative(root, file), async () => {
        const text = readText(file);
        const result = await lintText(text, file, { ruleSet: [rule], rules: { [rule.meta.id]: "warning" } });
        const actual = Object.fromEntries(findingsByLine(result.messages));
        const expected = Object.fromEntries([...readExpectations(text)].map(([line, ids]) => [line, ids.filter((id) => id === rule.meta.id)]).filter(([, ids]) => ids.length > 0));
        expect(actual).toEqual(expected);
      });
    }
  });
}

import { describe, expect, it } from "vitest";
import { relative } from "node:path";
import { lintText } from "../src/index.js";
import { findingsByLine, fixtureFiles, readExpectations, readText } from "./helpers/expectations.js";

const root = new URL("../fixtures/", import.meta.url).pathname;

// Every finding has a marker and every marker a finding: silence is tested as hard as detection.
describe("fixtures", () => {
  for (const file of fixtureFiles(root)) {
    // Shape and evaluation-mode fixtures need their own issues' rules; they are checked in their own tests.
    it(relative(root, file), async () => {
      const text = readText(file);
      const result = await lintText(text, file);
      const actual = Object.fromEntries(findingsByLine(result.messages));
      const expected = Object.fromEntries(readExpectations(text));
      expect(actual).toEqual(expected);
    });
  }
});

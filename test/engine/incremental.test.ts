// The language server's incremental lint (engine/incremental.ts, engine/units.ts) must give exactly what a
// whole-file lint gives, for every fixture and after any edit, while re-linting only the units an edit touches.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { lintText } from "../../src/engine/linter.js";
import { IncrementalLinter } from "../../src/index.js";
import { splitIntoUnits, toFileOffset, wordsOf } from "../../src/engine/units.js";
import type { LintResult } from "../../src/engine/diagnostic.js";
import { fixtureFiles, readText } from "../helpers/expectations.js";

const FIXTURES = new URL("../../fixtures/", import.meta.url).pathname;
const THREE_MODELS = `${FIXTURES}reused-batchnorm/three_independent_models.py`;

/** What a user sees of a result: every field of every finding, in order. */
const visible = (r: LintResult) => r.messages.map(({ ruleId, severity, message, range, related, fix, suggestions }) => ({ ruleId, severity, message, range, related, fix, suggestions }));

describe("incremental lint", () => {
  it("gives the whole-file findings for every fixture (LF and CRLF), and re-lints nothing when the text is unchanged", async () => {
    for (const file of fixtureFiles(FIXTURES)) {
      for (const text of [readText(file), readText(file).replace(/\n/g, "\r\n")]) {
        const linter = new IncrementalLinter(file);
        expect(visible(await linter.lint(text)), file).toEqual(visible(await lintText(text, file)));
        await linter.lint(text);
        expect(linter.lastLintedUnits, file).toBe(0);
        linter.dispose();
      }
    }
  });

  it("re-lints only the model an edit is in, and moves the other findings with the text", async () => {
    const text = readText(THREE_MODELS);
    const linter = new IncrementalLinter(THREE_MODELS);
    await linter.lint(text);
    // Same number of lines: the StackedMLP unit and the HelperNet unit keep their text.
    const edited = text.replace("self.conv1 = nn.Conv2d(3, 32, 3, padding=1)", "self.conv1 = nn.Conv2d(3, 32, kernel_size=3, padding=1)");
    const result = await linter.lint(edited);
    expect(linter.lastLintedUnits).toBe(1);
    expect(visible(result)).toEqual(visible(await lintText(edited, THREE_MODELS)));
    const spare = result.messages.find((m) => m.ruleId === "unused-batchnorm")!;
    expect(edited.slice(spare.range.startIndex, spare.range.endIndex)).toBe("self.spare_bn = nn.BatchNorm2d(32)");
    linter.dispose();
  });

  it("counts attribute reads in the other models: a BatchNorm called only by another class is not unused", async () => {
    const file = `${FIXTURES}clean/probe_reads_other_model.py`;
    const text = readText(file);
    const units = splitIntoUnits(text, [
      { name: "Backbone", startIndex: text.indexOf("class Backbone"), endIndex: text.indexOf("\n\n\nclass FeatureProbe") },
      { name: "FeatureProbe", startIndex: text.indexOf("class FeatureProbe"), endIndex: text.length - 1 },
    ], (i) => wordsOf(i === 0 ? "Backbone" : "FeatureProbe"));
    expect(units).toHaveLength(2); // the two classes are linted apart...
    const linter = new IncrementalLinter(file);
    expect((await linter.lint(text)).messages).toEqual([]); // ...and the probe's read still counts
    // Once the probe stops calling it, the BatchNorm is unused; only the probe's unit changed.
    const noProbe = text.replace("self.net.bn_probe(self.net.conv(x))", "self.net.conv(x)");
    const after = await linter.lint(noProbe);
    expect(after.messages.map((m) => [m.ruleId, m.range.start.line])).toEqual([["unused-batchnorm", 17]]);
    linter.dispose();
  });

  it("reports a syntax error while a class is half typed, and the findings again once it parses", async () => {
    const text = readText(THREE_MODELS);
    const linter = new IncrementalLinter(THREE_MODELS);
    await linter.lint(text);
    const broken = text.replace("self.out = nn.Linear(width, 1)", "self.out = nn.Linear(width,");
    const during = await linter.lint(broken);
    expect(during.messages.map((m) => m.fatal)).toEqual([true]);
    expect(during.messages[0].message).toMatch(/^Parsing error/);
    expect(visible(await linter.lint(text))).toEqual(visible(await lintText(text, THREE_MODELS)));
    linter.dispose();
  });

  it("stays equal to the whole-file lint over random sequences of line edits", async () => {
    const files = [THREE_MODELS, `${FIXTURES}seed/keras_cifar2.py`, `${FIXTURES}clean/probe_reads_other_model.py`];
    const edit = fc.record({ op: fc.constantFrom("delete", "duplicate", "comment", "blank"), line: fc.nat(), from: fc.nat() });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...files), fc.array(edit, { minLength: 1, maxLength: 6 }), async (file, edits) => {
        const linter = new IncrementalLinter(file);
        let lines = readText(file).split("\n");
        try {
          await linter.lint(lines.join("\n"));
          for (const e of edits) {
            const i = e.line % lines.length;
            if (e.op === "delete") lines.splice(i, 1);
            else if (e.op === "duplicate") lines.splice(i, 0, lines[e.from % lines.length]);
            else if (e.op === "comment") lines[i] += "  # edited";
            else lines.splice(i, 0, "");
            lines = lines.length > 0 ? lines : [""];
            const text = lines.join("\n");
            expect(visible(await linter.lint(text))).toEqual(visible(await lintText(text, file)));
          }
        } finally {
          linter.dispose();
        }
      }),
      { numRuns: 60, seed: 20261128 },
    );
  });
});

describe("lint units", () => {
  const text = "import torch\n\nclass A:\n    x = 1\n\nclass B:\n    y = A\n\nclass C:\n    z = 3\n    w = 4\n\nrun(C)\n";
  const classes = ["A", "B", "C"].map((name) => {
    const startIndex = text.indexOf(`class ${name}`);
    const next = text.indexOf("\n\n", startIndex);
    return { name, startIndex, endIndex: next };
  });
  const units = splitIntoUnits(text, classes, (i) => wordsOf(text.slice(classes[i].startIndex, classes[i].endIndex)));

  it("groups classes that name each other and blanks the others line for line", () => {
    expect(units.map((u) => u.classes)).toEqual([[0, 1], [2]]);
    expect(units[0].text).toBe("import torch\n\nclass A:\n    x = 1\n\nclass B:\n    y = A\n\n\n\n\n\nrun(C)\n");
    expect(units[0].text.split("\n")).toHaveLength(text.split("\n").length);
    expect(units[1].text).toBe(`import torch${"\n".repeat(8)}class C:\n    z = 3\n    w = 4\n\nrun(C)\n`);
  });

  it("keeps a file of thousands of classes whole rather than building thousands of file-long units", () => {
    const many = Array.from({ length: 3000 }, (_, i) => `class C${i}:\n    x = ${i}\n`).join("\n");
    const found = [...many.matchAll(/class (C\d+):\n {4}x = \d+/g)].map((m) => ({ name: m[1], startIndex: m.index!, endIndex: m.index! + m[0].length }));
    expect(splitIntoUnits(many, found, () => [])).toHaveLength(1);
    expect(splitIntoUnits(many, found.slice(0, 3), () => [])).toHaveLength(3);
  });

  it("maps unit offsets back to file offsets", () => {
    const unitOffset = units[1].text.indexOf("w = 4");
    expect(toFileOffset(units[1], unitOffset)).toBe(text.indexOf("w = 4"));
    expect(toFileOffset(units[0], units[0].text.indexOf("run(C)"))).toBe(text.indexOf("run(C)"));
    expect(toFileOffset(units[1], 3)).toBe(3);
  });
});

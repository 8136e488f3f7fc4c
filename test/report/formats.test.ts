import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { cli, tempTree } from "../helpers/cli.js";
import { rules } from "../../rules/index.js";

// The official SARIF 2.1.0 schema (rtm.5), as shipped in @microsoft/jest-sarif, so the check runs offline.
const require = createRequire(import.meta.url);
const schemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validateSarif = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));

const seed = "@fixtures/seed/keras_cifar2.py";

describe("--format sarif", () => {
  it("is valid SARIF 2.1.0 with every rule, locations, related locations and fixes", async () => {
    const root = tempTree({ "models/net.py": seed, "models/broken.py": "import torch\ndef f(:\n" });
    const run = await cli(["-f", "sarif", "models"], root);
    expect(run.code).toBe(1);
    const log = JSON.parse(run.stdout);
    const valid = validateSarif(log);
    expect(validateSarif.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const driver = log.runs[0].tool.driver;
    expect(driver.rules.map((r: { id: string }) => r.id)).toEqual(rules.map((r) => r.meta.id));
    for (const r of driver.rules) {
      expect(r.shortDescription.text.length).toBeGreaterThan(10);
      expect(r.fullDescription.text.length).toBeGreaterThan(10);
      expect(r.help.text.length).toBeGreaterThan(10);
      const meta = rules.find((rule) => rule.meta.id === r.id)!.meta;
      // Opt-in rules (default off) are listed with level "none".
      expect(r.defaultConfiguration.level).toBe(meta.defaultSeverity === "off" ? "none" : meta.defaultSeverity);
    }
    const results = log.runs[0].results;
    const reuse = results.filter((r: { ruleId: string }) => r.ruleId === "reused-batchnorm");
    expect(reuse.map((r: any) => r.locations[0].physicalLocation.region.startLine)).toEqual([49, 54, 59, 61]);
    expect(reuse[0].locations[0].physicalLocation.artifactLocation.uri).toBe("models/net.py");
    expect(reuse[0].relatedLocations.map((l: any) => l.physicalLocation.region.startLine)).toEqual([47, 31]);
    expect(reuse[0].fixes[0].artifactChanges[0].replacements.length).toBe(2);
    // The unparsable file is a tool notification, not a result.
    const notes = log.runs[0].invocations[0].toolExecutionNotifications;
    expect(notes.map((n: any) => n.locations[0].physicalLocation.artifactLocation.uri)).toEqual(["models/broken.py"]);
  });

  it("keeps partial fingerprints when lines move", async () => {
    const original = readFileSync(new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url), "utf8");
    const a = tempTree({ "net.py": original });
    const b = tempTree({ "net.py": `# a new header comment\n\n${original}` });
    const fingerprints = async (root: string) =>
      JSON.parse((await cli(["-f", "sarif", "net.py"], root)).stdout).runs[0].results.map((r: any) => [r.locations[0].physicalLocation.region.startLine, Object.values(r.partialFingerprints)[0]]);
    const before = await fingerprints(a);
    const after = await fingerprints(b);
    expect(after.map((x: unknown[]) => x[0])).toEqual(before.map((x: unknown[]) => (x[0] as number) + 2));
    expect(after.map((x: unknown[]) => x[1])).toEqual(before.map((x: unknown[]) => x[1]));
    expect(new Set(before.map((x: unknown[]) => x[1])).size).toBe(before.length);
  });

  it("keeps suppressed findings as results with an in-source suppression", async () => {
    const text = readFileSync(new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url), "utf8").replace("x = self.bn_6(x)  # expect: [reused-batchnorm]", "x = self.bn_6(x)  # bnlint: disable=reused-batchnorm -- measured: harmless here");
    const root = tempTree({ "net.py": text });
    const log = JSON.parse((await cli(["-f", "sarif", "net.py"], root)).stdout);
    expect(validateSarif(log)).toBe(true);
    const suppressed = log.runs[0].results.filter((r: any) => r.suppressions);
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0].locations[0].physicalLocation.region.startLine).toBe(49);
    expect(suppressed[0].suppressions).toEqual([{ kind: "inSource", status: "accepted", justification: "measured: harmless here" }]);
  });
});

describe("--format github", () => {
  it("prints one workflow command per finding with file, range and title", async () => {
    const root = tempTree({ "net.py": seed });
    const run = await cli(["-f", "github", "."], root);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[2]).toMatch(/^::error file=net\.py,line=49,col=13,endLine=49,endColumn=25,title=bnlint \(reused-batchnorm\)::`self\.bn_6` \(BatchNorm2d\(32\)\) runs 2 times/);
    expect(lines[0]).toMatch(/^::warning file=net\.py,line=26,col=9,.*title=bnlint \(unused-batchnorm\)::/);
    expect(run.code).toBe(1);
  });

  it("escapes newlines, percent signs, commas and colons", async () => {
    const root = tempTree({ "a,b:c%.py": "import torch\ndef f(:\n" });
    const run = await cli(["-f", "github", "."], root);
    expect(run.stdout).toMatch(/^::error file=a%2Cb%3Ac%25\.py,line=2,/);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
  });
});

describe("--format junit", () => {
  it("has one testcase per file and a failure per finding", async () => {
    const root = tempTree({ "net.py": seed, "clean.py": "@fixtures/clean/simsiam.py", "bad.py": "import torch\nx = <\n" });
    const run = await cli(["-f", "junit", "."], root);
    const xml = run.stdout;
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml).toContain('<testsuites name="bnlint" tests="3" failures="7" errors="1">');
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toMatch(/<testcase classname="bnlint" name="clean.py" file="clean.py" time="0" \/>/);
    expect(xml.match(/<failure type="reused-batchnorm"/g)).toHaveLength(4);
    expect(xml).toMatch(/<error type="fatal" message="2:\d+ Parsing error/);
    expect(xml).toContain("`self.bn_6` (BatchNorm2d(32))");
    expect(xml).not.toMatch(/<(?!\/?(testsuites|testsuite|testcase|failure|error)\b|\?xml)/);
  });
});

describe("--output-file", () => {
  it("writes any format to the file and nothing to stdout", async () => {
    const root = tempTree({ "net.py": seed });
    const run = await cli(["-f", "sarif", "-o", "out.sarif", "."], root);
    expect(run.stdout).toBe("");
    expect(validateSarif(JSON.parse(readFileSync(`${root}/out.sarif`, "utf8")))).toBe(true);
  });
});

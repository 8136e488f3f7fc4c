import { describe, expect, it } from "vitest";
import { cli, tempTree } from "../helpers/cli.js";
import { parseConfig } from "../../src/config/config.js";
import { optionsForFile } from "../../src/config/apply.js";

const seed = "@fixtures/seed/keras_cifar2.py";
const known = new Set(["reused-batchnorm", "unused-batchnorm", "batchnorm-on-logits"]);

async function rulesReported(args: string[], root: string): Promise<Record<string, string[]>> {
  const run = await cli(["-f", "json", ...args], root);
  expect(run.stderr).toBe("");
  const out: Record<string, string[]> = {};
  for (const f of JSON.parse(run.stdout)) out[f.filePath.slice(root.length + 1)] = [...new Set<string>(f.messages.map((m: { ruleId: string }) => m.ruleId))].sort();
  return out;
}

describe("configuration files", () => {
  it("[tool.bnlint] in pyproject.toml sets rule severities; the nearest config wins", async () => {
    const root = tempTree({
      "pyproject.toml": '[project]\nname = "x"\n\n[tool.bnlint]\nrules = { "unused-batchnorm" = "off", "batchnorm-on-logits" = "error" }\n',
      "a/net.py": seed,
      "b/bnlint.toml": 'rules = { "reused-batchnorm" = "off" }\n',
      "b/net.py": seed,
    });
    expect(await rulesReported(["."], root)).toEqual({
      "a/net.py": ["batchnorm-on-logits", "reused-batchnorm"],
      "b/net.py": ["batchnorm-on-logits", "reused-batchnorm", "unused-batchnorm"].filter((r) => r !== "reused-batchnorm"),
    });
    const run = await cli(["-f", "json", "a/net.py"], root);
    expect(JSON.parse(run.stdout)[0].messages.find((m: { ruleId: string }) => m.ruleId === "batchnorm-on-logits").severity).toBe(2);
  });

  it("a pyproject.toml without [tool.bnlint] is skipped on the way up", async () => {
    const root = tempTree({ "bnlint.toml": 'rules = { "reused-batchnorm" = "off" }\n', "pkg/pyproject.toml": '[project]\nname = "pkg"\n', "pkg/net.py": seed });
    expect(await rulesReported(["."], root)).toEqual({ "pkg/net.py": ["batchnorm-on-logits", "unused-batchnorm"] });
  });

  it("--rule on the command line wins over the config; --no-config and --config <file>", async () => {
    const root = tempTree({ "bnlint.toml": 'rules = { "reused-batchnorm" = "off" }\n', "other.toml": 'rules = { "unused-batchnorm" = "off" }\n', "net.py": seed });
    expect(await rulesReported(["--rule", "reused-batchnorm:error", "."], root)).toEqual({ "net.py": ["batchnorm-on-logits", "reused-batchnorm", "unused-batchnorm"] });
    expect(await rulesReported(["--no-config", "."], root)).toEqual({ "net.py": ["batchnorm-on-logits", "reused-batchnorm", "unused-batchnorm"] });
    expect(await rulesReported(["--config", "other.toml", "."], root)).toEqual({ "net.py": ["batchnorm-on-logits", "reused-batchnorm"] });
  });

  it("include/exclude filter walked folders; named files are linted unless --force-exclude", async () => {
    const root = tempTree({
      "bnlint.toml": 'include = ["models/**"]\nexclude = ["models/legacy/", "*_old.py"]\n',
      "models/net.py": seed,
      "models/net_old.py": seed,
      "models/legacy/v1.py": seed,
      "scripts/train.py": seed,
    });
    expect(Object.keys(await rulesReported(["."], root))).toEqual(["models/net.py"]);
    expect(Object.keys(await rulesReported(["models/net_old.py"], root))).toEqual(["models/net_old.py"]);
    expect(Object.keys(await rulesReported(["--force-exclude", "models/net_old.py", "models/net.py"], root))).toEqual(["models/net.py"]);
  });

  it("per-file-ignores turn rules off for matching files", async () => {
    const root = tempTree({
      "pyproject.toml": '[tool.bnlint.per-file-ignores]\n"tests/**" = ["unused-batchnorm", "batchnorm-on-logits"]\n"experiments/*.py" = ["all"]\n',
      "tests/net.py": seed,
      "experiments/net.py": seed,
      "net.py": seed,
    });
    expect(await rulesReported(["."], root)).toEqual({
      "experiments/net.py": [],
      "net.py": ["batchnorm-on-logits", "reused-batchnorm", "unused-batchnorm"],
      "tests/net.py": ["reused-batchnorm"],
    });
  });

  const bad: [string, string, string, RegExp][] = [
    ["bad TOML", "bnlint.toml", 'include = []\nrules = { "reused-batchnorm" = off }\n', /bnlint\.toml:2: invalid TOML/],
    ["unknown key", "bnlint.toml", '# comment\n\nrulez = {}\n', /bnlint\.toml:3: unknown key "rulez"/],
    ["unknown rule", "pyproject.toml", '[project]\nname = "x"\n[tool.bnlint]\nrules = { "reused-batchnorm" = "off",\n  "no-such-rule" = "error" }\n', /pyproject\.toml:5: unknown rule "no-such-rule"/],
    ["bad severity", "bnlint.toml", '\n[rules]\n"unused-batchnorm" = "loud"\n', /bnlint\.toml:3: rule "unused-batchnorm" has severity "loud"/],
    ["bad input shape", "bnlint.toml", '[input-shape]\nNet = [1, "3", 32]\n', /bnlint\.toml:2: input-shape of "Net" must be/],
  ];
  for (const [name, file, text, error] of bad) {
    it(`a bad config file is exit code 2 with file, line and reason: ${name}`, async () => {
      const root = tempTree({ [file]: text, "net.py": seed });
      const run = await cli(["."], root);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(error);
    });
  }

  it("--config with a missing file is exit code 2", async () => {
    const root = tempTree({ "net.py": seed });
    const run = await cli(["--config", "nope.toml", "."], root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nope\.toml:1: no such file/);
  });

  it("input-shape and model-args fill the shared lint options, command-line values first", () => {
    const config = parseConfig('[input-shape]\n"*" = [8, 3, 32, 32]\nKeras_Cifar2 = [4, 3, 32, 32]\n\n[model-args]\nKeras_Cifar2 = { rank1 = 8, rank2 = 16 }\n', "/repo/bnlint.toml", known)!;
    const options = optionsForFile(config, "/repo/net.py", { inputShapes: { Net: [2, 1, 28, 28] } }, {}, [...known]);
    expect(options.inputShapes).toEqual({ "*": [8, 3, 32, 32], Keras_Cifar2: [4, 3, 32, 32], Net: [2, 1, 28, 28] });
    expect(options.modelArgs).toEqual({ Keras_Cifar2: { rank1: 8, rank2: 16 } });
  });

  it("model-args take numbers, strings, booleans and arrays of numbers and strings (a tuple argument), and reject other values", () => {
    const config = parseConfig('[model-args]\nASPP = { in_channels = 64, atrous_rates = [6, 12, 18], pretrained = false }\nDSBNNet = { domains = ["source", "target"] }\n', "/repo/bnlint.toml", known)!;
    expect(config.modelArgs).toEqual({ ASPP: { in_channels: 64, atrous_rates: [6, 12, 18], pretrained: false }, DSBNNet: { domains: ["source", "target"] } });
    expect(() => parseConfig("[model-args]\nASPP = { atrous_rates = [[6]] }\n", "/repo/bnlint.toml", known)).toThrow(/must be a number, a string, a boolean, an array of numbers and strings, or \{ name = "<Class>" \}/);
    expect(() => parseConfig("[model-args]\nASPP = { rates = [true] }\n", "/repo/bnlint.toml", known)).toThrow(/must be a number, a string, a boolean, an array/);
  });

  it("model-args name a class of the file with { name = ... } (ResNet's block), and reject other tables", () => {
    const config = parseConfig('[model-args]\nResNet = { block = { name = "BasicBlock" }, layers = [2, 2, 2, 2] }\n', "/repo/bnlint.toml", known)!;
    expect(config.modelArgs).toEqual({ ResNet: { block: { name: "BasicBlock" }, layers: [2, 2, 2, 2] } });
    expect(() => parseConfig('[model-args]\nResNet = { block = { name = "Basic Block" } }\n', "/repo/bnlint.toml", known)).toThrow(/or \{ name = "<Class>" \}/);
    expect(() => parseConfig('[model-args]\nResNet = { block = { cls = "BasicBlock" } }\n', "/repo/bnlint.toml", known)).toThrow(/or \{ name = "<Class>" \}/);
  });
});

describe("a bad configuration under --fix", () => {
  it("stops the run before any file is written", async () => {
    const root = tempTree({ "a/net.py": "@fixtures/reused-batchnorm/direct_twice.py", "b/bnlint.toml": "rules = 3\n", "b/net.py": "@fixtures/reused-batchnorm/direct_twice.py" });
    const before = (await import("node:fs")).readFileSync(`${root}/a/net.py`, "utf8");
    const run = await cli(["--fix", "--unsafe-fixes", "."], root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/b\/bnlint\.toml:1: "rules" must be a table/);
    expect((await import("node:fs")).readFileSync(`${root}/a/net.py`, "utf8")).toBe(before);
  });
});

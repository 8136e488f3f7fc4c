import { describe, expect, it, beforeAll } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, chmodSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = new URL("../", import.meta.url).pathname;
const bin = join(repo, "bin/bnlint.js");
const seed = join(repo, "fixtures/seed/keras_cifar2.py");

async function bnlint(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: opts.cwd ?? repo, env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "", ...opts.env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const CLEAN = `import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n        self.bn = nn.BatchNorm2d(8)\n\n    def forward(self, x):\n        return self.bn(self.conv(x))\n`;
const UNUSED_ONLY = CLEAN.replace("self.bn = nn.BatchNorm2d(8)", "self.bn = nn.BatchNorm2d(8)\n        self.extra = nn.BatchNorm2d(8)");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bnlint-cli-"));
  writeFileSync(join(dir, "clean.py"), CLEAN);
  writeFileSync(join(dir, "warn.py"), UNUSED_ONLY);
});

describe("bnlint CLI", () => {
  it("reports the seed model's seven findings in stylish format and exits 1", async () => {
    const r = await bnlint([seed]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("keras_cifar2.py");
    expect(r.stdout).toMatch(/49:13 {2}error {2}`self\.bn_6` \(BatchNorm2d\(32\)\) runs 2 times/);
    expect(r.stdout).toContain("> 49 |         x = self.bn_6(x)");
    expect(r.stdout).toContain("↳ 47:13  first call of `self.bn_6`");
    expect(r.stdout).toContain("✖ 7 problems (4 errors, 3 warnings)");
    expect(r.stdout).not.toMatch(/\u001b\[/); // not a TTY: no color
  });

  it("prints ESLint-shaped JSON", async () => {
    const r = await bnlint([seed, "--format", "json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toHaveLength(1);
    expect(out[0].filePath).toBe(seed);
    // The four reuse errors carry an (unsafe) fix each.
    expect(out[0]).toMatchObject({ errorCount: 4, warningCount: 3, fatalErrorCount: 0, fixableErrorCount: 4, fixableWarningCount: 0, suppressedMessages: [] });
    const found = out[0].messages.map((m: { ruleId: string; line: number; severity: number }) => `${m.line} ${m.ruleId} ${m.severity}`);
    expect(found).toEqual([
      "26 unused-batchnorm 1",
      "28 unused-batchnorm 1",
      "49 reused-batchnorm 2",
      "54 reused-batchnorm 2",
      "59 reused-batchnorm 2",
      "61 reused-batchnorm 2",
      "65 batchnorm-on-logits 1",
    ]);
    const first = out[0].messages[2];
    expect(first).toMatchObject({ line: 49, column: 13, endLine: 49, endColumn: 25, messageId: "reused" });
  });

  it("exits 0 on clean code and prints nothing", async () => {
    const r = await bnlint([join(dir, "clean.py")]);
    expect(r).toMatchObject({ code: 0, stdout: "" });
  });

  it("exits 0 with warnings only, 1 when warnings exceed --max-warnings", async () => {
    expect((await bnlint([join(dir, "warn.py")])).code).toBe(0);
    const over = await bnlint([join(dir, "warn.py"), "--max-warnings", "0"]);
    expect(over.code).toBe(1);
    expect(over.stdout).toContain("bnlint found too many warnings (maximum: 0, found: 1).");
  });

  it("--quiet hides warnings; --rule changes severities", async () => {
    const quiet = await bnlint([seed, "--quiet", "-f", "json"]);
    expect(JSON.parse(quiet.stdout)[0].messages.every((m: { severity: number }) => m.severity === 2)).toBe(true);
    const off = await bnlint([seed, "--rule", "reused-batchnorm:off", "--rule", "unused-batchnorm:error", "-f", "json"]);
    const msgs = JSON.parse(off.stdout)[0].messages;
    expect(msgs.some((m: { ruleId: string }) => m.ruleId === "reused-batchnorm")).toBe(false);
    expect(msgs.filter((m: { ruleId: string; severity: number }) => m.ruleId === "unused-batchnorm" && m.severity === 2)).toHaveLength(2);
  });

  it("bad usage exits 2 with a clear message", async () => {
    const unknownRule = await bnlint([seed, "--rule", "no-such-rule:error"]);
    expect(unknownRule.code).toBe(2);
    expect(unknownRule.stderr).toContain('unknown rule "no-such-rule"');
    const badFormat = await bnlint([seed, "--format", "xml"]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('unknown format "xml"');
    const badOption = await bnlint(["--frobnicate"]);
    expect(badOption.code).toBe(2);
  });

  it("--list-rules and --explain come from the rules' metadata", async () => {
    const list = await bnlint(["--list-rules"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^reused-batchnorm\s+error\s+One BatchNorm instance runs/m);
    const explain = await bnlint(["--explain", "reused-batchnorm"]);
    expect(explain.code).toBe(0);
    for (const heading of ["**What it does.**", "**Why is this bad?**", "**Example**", "**Fix.**", "**Known limitations.**"]) expect(explain.stdout).toContain(heading);
    expect((await bnlint(["--explain", "nope"])).code).toBe(2);
  });

  it("walks folders, respects .gitignore and skips virtual environments", async () => {
    const root = mkdtempSync(join(tmpdir(), "bnlint-walk-"));
    mkdirSync(join(root, ".git"));
    mkdirSync(join(root, "models"));
    mkdirSync(join(root, "ignored"));
    mkdirSync(join(root, "env"));
    writeFileSync(join(root, ".gitignore"), "ignored/\n");
    writeFileSync(join(root, "env", "pyvenv.cfg"), "home = /usr/bin\n");
    for (const d of ["models", "ignored", "env"]) writeFileSync(join(root, d, "net.py"), UNUSED_ONLY);
    writeFileSync(join(root, "models", "notes.txt"), "not python");
    const r = await bnlint(["-f", "json"], { cwd: root });
    const files = JSON.parse(r.stdout).map((f: { filePath: string }) => f.filePath);
    expect(files).toEqual([join(root, "models", "net.py")]);
  });

  it("reports unreadable, binary, missing and unparsable files and still lints the rest", async () => {
    const root = mkdtempSync(join(tmpdir(), "bnlint-bad-"));
    writeFileSync(join(root, "a_binary.py"), Buffer.from([0x69, 0x6d, 0x00, 0x01, 0x02]));
    writeFileSync(join(root, "b_broken.py"), "import torch.nn as nn\nclass Net(nn.Module:\n    def forward(self, x)\n        return x\n");
    writeFileSync(join(root, "c_latin1.py"), Buffer.from("# caf\xe9\nimport torch\n", "latin1"));
    writeFileSync(join(root, "d_good.py"), UNUSED_ONLY);
    writeFileSync(join(root, "e_secret.py"), CLEAN);
    chmodSync(join(root, "e_secret.py"), 0o000);
    symlinkSync(join(root, "nowhere.py"), join(root, "f_dangling.py"));
    const r = await bnlint([root, join(root, "missing.py"), "-f", "json"]);
    expect(r.code).toBe(1);
    const byName = Object.fromEntries(JSON.parse(r.stdout).map((f: { filePath: string; messages: { message: string; fatal?: boolean; ruleId: string | null }[] }) => [f.filePath.split("/").pop(), f.messages]));
    expect(byName["a_binary.py"][0]).toMatchObject({ ruleId: null, fatal: true, severity: 2 });
    expect(byName["a_binary.py"][0].message).toContain("binary file");
    expect(byName["b_broken.py"][0].message).toContain("Parsing error");
    expect(byName["c_latin1.py"][0].message).toContain("not valid UTF-8");
    expect(byName["d_good.py"].map((m: { ruleId: string }) => m.ruleId)).toEqual(["unused-batchnorm"]);
    expect(byName["missing.py"][0].message).toContain("no such file or directory");
    if (process.getuid?.() !== 0) expect(byName["e_secret.py"][0].message).toContain("permission denied");
    expect(byName["f_dangling.py"]).toBeUndefined();
  });

  it("warns about a named file in another language (TensorFlow.js, a notebook) instead of parsing it as Python", async () => {
    const root = mkdtempSync(join(tmpdir(), "bnlint-other-"));
    writeFileSync(join(root, "model.ts"), "// A PyTorch port\nconst bn = tf.layers.batchNormalization({ momentum: 0.1 });\n");
    writeFileSync(join(root, "train.ipynb"), '{"cells": []}');
    writeFileSync(join(root, "warn.py"), UNUSED_ONLY);
    const r = await bnlint([join(root, "model.ts"), join(root, "train.ipynb"), root, "-f", "json"]);
    expect(r.code).toBe(0);
    const byName = Object.fromEntries(JSON.parse(r.stdout).map((f: { filePath: string; messages: { message: string; severity: number; ruleId: string | null }[] }) => [f.filePath.split("/").pop(), f.messages]));
    expect(byName["model.ts"]).toEqual([expect.objectContaining({ ruleId: null, severity: 1, message: "File ignored: bnlint lints Python files (.py, .pyi), and this is JavaScript/TypeScript (TensorFlow.js is not supported yet)." })]);
    expect(byName["train.ipynb"][0].message).toContain("a Jupyter notebook");
    expect(byName["warn.py"].map((m: { ruleId: string }) => m.ruleId)).toEqual(["unused-batchnorm"]);
  });

  it("reads UTF-16 files with a byte order mark and CRLF line endings", async () => {
    const root = mkdtempSync(join(tmpdir(), "bnlint-enc-"));
    const text = UNUSED_ONLY.replace(/\n/g, "\r\n");
    writeFileSync(join(root, "utf16.py"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    const r = await bnlint([join(root, "utf16.py"), "-f", "json"]);
    const [file] = JSON.parse(r.stdout);
    expect(file.messages.map((m: { ruleId: string; line: number }) => `${m.ruleId}@${m.line}`)).toEqual(["unused-batchnorm@9"]);
  });

  it("--output-file writes the report; color can be forced", async () => {
    const out = join(dir, "report.json");
    const r = await bnlint([seed, "-f", "json", "-o", out]);
    expect(r.stdout).toBe("");
    expect(JSON.parse(readFileSync(out, "utf8"))[0].errorCount).toBe(4);
    const colored = await bnlint([seed, "--color"]);
    expect(colored.stdout).toMatch(/\u001b\[/);
  });
});

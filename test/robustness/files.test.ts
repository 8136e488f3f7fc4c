import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.js";

const REUSE = "import torch.nn as nn\n\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bn = nn.BatchNorm2d(3)\n\n    def forward(self, x):\n        x = self.bn(x)\n        return self.bn(x)\n";
// Permission checks do not apply to root, which CI may be.
const isRoot = process.getuid?.() === 0;

async function lintJson(args: string[], cwd: string): Promise<{ code: number; files: { filePath: string; messages: { ruleId: string | null; message: string; line: number }[] }[]; stderr: string }> {
  let out = "";
  let err = "";
  const code = await runCli(["-f", "json", ...args], { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY: false, env: {}, cwd });
  return { code, files: out ? JSON.parse(out) : [], stderr: err };
}

// The file system is hostile too: every path gets a result, and one bad path never hides the others.
describe("file system", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bnlint-fs-"));
    mkdirSync(join(dir, "with space"));
    writeFileSync(join(dir, "with space", "módèl ñ.py"), REUSE);
    writeFileSync(join(dir, "ok.py"), REUSE);
    symlinkSync(join(dir, "missing.py"), join(dir, "broken.py"));
    mkdirSync(join(dir, "loop"));
    symlinkSync(join(dir, "loop"), join(dir, "loop", "again"));
    symlinkSync("self.py", join(dir, "self.py"));
    writeFileSync(join(dir, "locked.py"), REUSE);
    chmodSync(join(dir, "locked.py"), 0o000);
    mkdirSync(join(dir, "closed"));
    writeFileSync(join(dir, "closed", "inner.py"), REUSE);
    chmodSync(join(dir, "closed"), 0o000);
  });
  afterAll(() => {
    chmodSync(join(dir, "closed"), 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it("walks a folder with cyclic and broken symlinks, spaces and non-ASCII names", async () => {
    const { code, files } = await lintJson(["."], dir);
    const byName = new Map(files.map((f) => [f.filePath.slice(dir.length + 1), f]));
    expect(byName.get("ok.py")?.messages.map((m) => m.ruleId)).toEqual(["reused-batchnorm"]);
    expect(byName.get("with space/módèl ñ.py")?.messages.map((m) => m.ruleId)).toEqual(["reused-batchnorm"]);
    expect([...byName.keys()].some((k) => k.includes("again"))).toBe(false); // the cycle is walked once
    expect(code).toBe(1);
  });

  it.skipIf(isRoot)("unreadable files and folders are reported, the rest linted", async () => {
    const { code, files } = await lintJson(["."], dir);
    const locked = files.find((f) => f.filePath.endsWith("locked.py"));
    expect(locked?.messages).toMatchObject([{ ruleId: null, message: expect.stringMatching(/permission denied/) }]);
    const closed = files.find((f) => f.filePath.endsWith("closed"));
    expect(closed?.messages).toMatchObject([{ ruleId: null, message: expect.stringMatching(/cannot read directory/) }]);
    expect(files.find((f) => f.filePath.endsWith("ok.py"))?.messages).toHaveLength(1);
    expect(code).toBe(1);
  });

  it("named paths that are missing, broken links or self-links get one fatal message each", async () => {
    const { code, files } = await lintJson(["nothing.py", "broken.py", "self.py", "ok.py"], dir);
    expect(files.map((f) => [f.filePath.slice(dir.length + 1), f.messages.map((m) => m.ruleId ?? "fatal")])).toEqual([
      ["nothing.py", ["fatal"]],
      ["broken.py", ["fatal"]],
      ["self.py", ["fatal"]],
      ["ok.py", ["reused-batchnorm"]],
    ]);
    expect(code).toBe(1);
  });

  it("a file deleted between the walk and the read is reported, not fatal to the run", async () => {
    const gone = join(dir, "gone.py");
    writeFileSync(gone, REUSE);
    const { lintFile } = await import("../../src/engine/linter.js");
    rmSync(gone);
    const result = await lintFile(gone);
    expect(result.messages).toMatchObject([{ ruleId: null, fatal: true, message: expect.stringMatching(/no such file/) }]);
  });
});

import { describe, expect, it } from "vitest";
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { cli, tempTree } from "../helpers/cli.js";
import { lintText } from "../../src/index.js";
import { applyFixes } from "../../src/engine/fix-apply.js";
import { fixtureFiles, MODEL_FIXTURE_FOLDERS } from "../helpers/expectations.js";
import { rules } from "../../rules/index.js";

const repo = new URL("../../", import.meta.url).pathname;
const TORCH_PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(TORCH_PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;

/** Every fixture that reports reuse, with the fixes it offers. */
const reuseFixtures = fixtureFiles(`${repo}fixtures`).filter((f) => /#\s*expect:\s*\[[^\]]*reused-batchnorm/.test(readFileSync(f, "utf8")));

async function findings(text: string, ruleId: string): Promise<number> {
  const r = await lintText(text, "x.py");
  expect(r.messages.filter((m) => m.fatal)).toEqual([]);
  return r.messages.filter((m) => m.ruleId === ruleId).length;
}

async function fixableFixtures(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const f of reuseFixtures) {
    const r = await lintText(readFileSync(f, "utf8"), f);
    if (r.messages.some((m) => m.ruleId === "reused-batchnorm" && m.fix)) files[f.slice(repo.length)] = `@${f.slice(repo.length)}`;
  }
  return files;
}

function groundTruth(dir: string, folders: string[] = ["."]): { file: string; models: { ok: boolean; error: string | null; batchnorm_calls: Record<string, number> }[] }[] {
  const run = spawnSync(TORCH_PYTHON, [join(repo, "test/python/torch_ground_truth.py"), ...folders.map((f) => join(dir, f))], { encoding: "utf8", cwd: dir });
  return run.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe("--fix", () => {
  it("the reuse fix is unsafe: --fix alone changes nothing, --fix --unsafe-fixes splits the BatchNorm", async () => {
    const root = tempTree({ "net.py": "@fixtures/seed/keras_cifar2.py" });
    const before = readFileSync(`${root}/net.py`, "utf8");
    const safeOnly = await cli(["--fix", "net.py"], root);
    expect(readFileSync(`${root}/net.py`, "utf8")).toBe(before);
    expect(safeOnly.code).toBe(1);
    expect(safeOnly.stdout).toContain("potentially fixable with the `--fix --unsafe-fixes` option");

    const run = await cli(["--fix", "--unsafe-fixes", "-f", "json", "net.py"], root);
    const after = readFileSync(`${root}/net.py`, "utf8");
    expect(after).toContain("        self.bn_6 = nn.BatchNorm2d(32)\n        self.bn_6_2 = nn.BatchNorm2d(32)\n        self.bn_7 = nn.BatchNorm2d(64)\n");
    expect(after).toContain("        self.bn_2 = nn.BatchNorm2d(rank1)\n        self.bn_2_2 = nn.BatchNorm2d(rank1)\n        self.bn_2_3 = nn.BatchNorm2d(rank1)\n");
    expect(after).toContain("        x = self.bn_6_2(x)  # expect: [reused-batchnorm]\n");
    expect(after).toContain("        x = self.bn_2_3(x)  # expect: [reused-batchnorm]\n");
    // The remaining problems are reported; the reuse ones are gone.
    const [result] = JSON.parse(run.stdout);
    expect(result.messages.map((m: { ruleId: string }) => m.ruleId)).toEqual(["unused-batchnorm", "unused-batchnorm", "batchnorm-on-logits"]);
    expect(run.code).toBe(0);
    // Every applied fix says which checkpoint keys are new.
    expect(run.stderr).toContain("checkpoints of `Keras_Cifar2` saved before lack `bn_6_2.weight`, `bn_6_2.bias`, `bn_6_2.running_mean`, `bn_6_2.running_var`, `bn_6_2.num_batches_tracked`");
    // Idempotent: a second run finds nothing to fix and leaves the bytes alone.
    await cli(["--fix", "--unsafe-fixes", "net.py"], root);
    expect(readFileSync(`${root}/net.py`, "utf8")).toBe(after);
  });

  it("every fixable reuse fixture parses after the fix and reports no reused-batchnorm; nothing new appears", async () => {
    const files = await fixableFixtures();
    expect(Object.keys(files).length).toBeGreaterThanOrEqual(15);
    const root = tempTree(files);
    const run = await cli(["--fix", "--unsafe-fixes", "--no-config", "."], root);
    expect(run.stderr).not.toMatch(/cannot fix/);
    for (const rel of Object.keys(files)) {
      const original = readFileSync(join(repo, rel), "utf8");
      const fixed = readFileSync(join(root, rel), "utf8");
      expect(fixed, rel).not.toBe(original);
      expect(await findings(fixed, "reused-batchnorm"), rel).toBe(0);
      expect(await findings(fixed, "unused-batchnorm"), rel).toBe(await findings(original, "unused-batchnorm"));
    }
  });

  it.skipIf(!hasTorch)("real PyTorch runs every fixed fixture with each BatchNorm called at most once, and as many BatchNorm calls as before", async () => {
    const files = await fixableFixtures();
    const root = tempTree(files);
    await cli(["--fix", "--unsafe-fixes", "--no-config", "."], root);
    const before = new Map(groundTruth(join(repo, "fixtures"), MODEL_FIXTURE_FOLDERS).map((f) => [f.file.replace(/^.*?fixtures\//, "fixtures/"), f]));
    const after = groundTruth(join(root, "fixtures"));
    expect(after.length).toBe(Object.keys(files).length);
    for (const file of after) {
      const name = file.file.replace(/^.*?fixtures\//, "fixtures/");
      const original = before.get(name)!;
      file.models.forEach((model, i) => {
        expect(model.error, name).toBeNull();
        expect(model.ok, name).toBe(true);
        const calls = Object.values(model.batchnorm_calls);
        expect(Math.max(...calls), `${name}: ${JSON.stringify(model.batchnorm_calls)}`).toBe(1);
        const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
        expect(total(model.batchnorm_calls), name).toBe(total(original.models[i].batchnorm_calls));
      });
    }
  }, 180_000);

  it.skipIf(!hasTorch)("the siamese suggestion shares weight and bias but gives each call its own running statistics", async () => {
    const reuse = rules.find((r) => r.meta.id === "reused-batchnorm")!;
    const bad = reuse.meta.docs.example.bad;
    const result = await lintText(bad, "net.py");
    const [finding] = result.messages.filter((m) => m.ruleId === "reused-batchnorm");
    expect(finding.suggestions?.map((s) => s.title)).toEqual([expect.stringMatching(/^Keep one weight and bias \(shared with `self\.bn`\) but give this call its own running statistics as `self\.bn_2`/)]);
    const fixed = applyFixes(bad, [finding.suggestions![0]]).text;
    expect(await findings(fixed, "reused-batchnorm")).toBe(0);
    const root = tempTree({ "net.py": fixed });
    const check = [
      "import sys, torch; sys.path.insert(0, '.')",
      "from net import Net",
      "m = Net(); m.train(); m(torch.randn(4, 3, 8, 8))",
      "assert m.bn_2.weight is m.bn.weight and m.bn_2.bias is m.bn.bias",
      "assert not torch.equal(m.bn.running_mean, m.bn_2.running_mean)",
      "print(sorted(k for k in m.state_dict() if k.startswith('bn_2.')))",
    ].join("\n");
    const run = spawnSync(TORCH_PYTHON, ["-c", check], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("['bn_2.bias', 'bn_2.num_batches_tracked', 'bn_2.running_mean', 'bn_2.running_var', 'bn_2.weight']");
  });

  it("keeps the encoding (BOM), CRLF line endings, tab indentation and the file mode; writes by rename", async () => {
    const text = readFileSync(`${repo}fixtures/reused-batchnorm/direct_twice.py`, "utf8").replace(/ {4}/g, "\t").replace(/\n/g, "\r\n");
    const root = tempTree({});
    const file = join(root, "net.py");
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]));
    chmodSync(file, 0o751);
    const inode = statSync(file).ino;
    await cli(["--fix", "--unsafe-fixes", "net.py"], root);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const after = bytes.subarray(3).toString("utf8");
    expect(after).not.toBe(text);
    expect(after.replace(/\r\n/g, "")).not.toContain("\n");
    expect(after).toContain("\t\tself.bn = nn.BatchNorm2d(32)\r\n\t\tself.bn_2 = nn.BatchNorm2d(32)\r\n");
    expect(statSync(file).mode & 0o777).toBe(0o751);
    expect(statSync(file).ino).not.toBe(inode);
    expect(readdirSync(root)).toEqual(["net.py"]);
  });

  it("fixes UTF-16 files and writes them back as UTF-16 with their byte order mark", async () => {
    const text = readFileSync(`${repo}fixtures/reused-batchnorm/direct_twice.py`, "utf8");
    const root = tempTree({});
    const file = join(root, "net.py");
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    await cli(["--fix", "--unsafe-fixes", "net.py"], root);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(bytes.subarray(2).toString("utf16le")).toContain("self.bn_2 = nn.BatchNorm2d(32)");
  });

  it("--fix-dry-run prints a unified diff and changes nothing", async () => {
    const root = tempTree({ "models/net.py": "@fixtures/reused-batchnorm/sequential_twice.py", "clean.py": "@fixtures/clean/simsiam.py" });
    const before = readFileSync(`${root}/models/net.py`, "utf8");
    const run = await cli(["--fix-dry-run", "."], root);
    expect(readFileSync(`${root}/models/net.py`, "utf8")).toBe(before);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^--- a\/models\/net\.py\n\+\+\+ b\/models\/net\.py\n@@ /);
    expect(run.stdout).toContain("-            bn,  # expect: [reused-batchnorm]\n+            nn.BatchNorm2d(64),  # expect: [reused-batchnorm]\n");
    expect(run.stderr).toContain("1 file would change");
    const clean = await cli(["--fix-dry-run", "clean.py"], root);
    expect(clean).toMatchObject({ code: 0, stdout: "" });
  });

  it.skipIf(!hasTorch)("loops and instances handed to two submodules get a suggestion that PyTorch runs with one call per BatchNorm", async () => {
    const files: Record<string, string> = {};
    const titles: string[] = [];
    for (const name of ["loop_range", "passed_to_two_submodules"]) {
      const rel = `fixtures/reused-batchnorm/${name}.py`;
      const text = readFileSync(`${repo}${rel}`, "utf8");
      const [finding] = (await lintText(text, rel)).messages.filter((m) => m.ruleId === "reused-batchnorm");
      expect(finding.fix, name).toBeUndefined();
      expect(finding.suggestions, name).toHaveLength(1);
      titles.push(finding.suggestions![0].title);
      files[rel] = applyFixes(text, finding.suggestions!).text;
      expect(await findings(files[rel], "reused-batchnorm"), name).toBe(0);
    }
    expect(titles[0]).toMatch(/^Use one BatchNorm2d\(channels\) per iteration: `self\.rbn` becomes an nn\.ModuleList of 3, indexed by `_` \(unsafe: .*`rbn\.\*` become `rbn\.0\.\*` … `rbn\.2\.\*`\)$/);
    expect(titles[1]).toMatch(/^Give `self\.refine` its own BatchNorm2d\(out_ch\) as `self\.bn_2` \(unsafe: .*lack `bn_2\.weight`/);
    const root = tempTree(files);
    for (const file of groundTruth(join(root, "fixtures"))) {
      for (const model of file.models) {
        expect(model.error, file.file).toBeNull();
        expect(Object.values(model.batchnorm_calls).sort(), file.file).toEqual(file.file.includes("loop") ? [1, 1, 1] : [1, 1]);
      }
    }
  }, 120_000);

  it("helpers called twice and aliases get no automatic edit", async () => {
    for (const name of ["loop_range", "helper_method", "passed_to_two_submodules", "local_alias"]) {
      const text = readFileSync(`${repo}fixtures/reused-batchnorm/${name}.py`, "utf8");
      const r = await lintText(text, `${name}.py`);
      const reuse = r.messages.filter((m) => m.ruleId === "reused-batchnorm");
      expect(reuse.length, name).toBeGreaterThan(0);
      expect(reuse.filter((m) => m.fix), name).toEqual([]);
    }
  });
});

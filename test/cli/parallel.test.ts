import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { tempTree } from "../helpers/cli.js";
import { PARALLEL_MIN_FILES } from "../../src/cli/parallel.js";

const repo = new URL("../../", import.meta.url).pathname;

// Worker threads run the compiled linter, so this test runs the built CLI (`npm test` builds first).
describe("worker threads", () => {
  it("give the same report, in the same order, as one thread", () => {
    const sources = readdirSync(`${repo}fixtures/reused-batchnorm`).map((f) => `@fixtures/reused-batchnorm/${f}`);
    const files: Record<string, string> = {};
    for (let i = 0; i < PARALLEL_MIN_FILES + 5; i++) files[`m${String(i).padStart(3, "0")}.py`] = sources[i % sources.length];
    files["broken.py"] = "import torch\ndef f(:\n";
    const root = tempTree(files);
    const run = (threads: string) => spawnSync(process.execPath, [`${repo}bin/bnlint.js`, "--threads", threads, "-f", "json", "."], { cwd: root, encoding: "utf8" });
    const one = run("1");
    const two = run("2");
    expect(two.stderr).toBe("");
    expect(two.status).toBe(1);
    const parsed = JSON.parse(two.stdout);
    expect(parsed).toHaveLength(PARALLEL_MIN_FILES + 6);
    expect(parsed.filter((f: { fatalErrorCount: number }) => f.fatalErrorCount > 0).map((f: { filePath: string }) => f.filePath)).toEqual([`${root}/broken.py`]);
    expect(two.stdout).toBe(one.stdout);
  });
});

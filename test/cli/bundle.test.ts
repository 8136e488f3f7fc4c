// bin/bnlint.js runs the esbuild bundle (dist/bundle/, built by `npm run build`): its worker threads must
// start the bundled worker (not the tsc output in dist/src).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempTree } from "../helpers/cli.js";
import { PARALLEL_MIN_FILES } from "../../src/cli/parallel.js";

const repo = new URL("../../", import.meta.url).pathname;
const bin = join(repo, "bin/bnlint.js");

/** Preloaded into the CLI: logs the script of every Worker it starts. */
const SPY = `
import { createRequire, syncBuiltinESMExports } from "node:module";
const wt = createRequire(import.meta.url)("node:worker_threads");
const Original = wt.Worker;
wt.Worker = class extends Original {
  constructor(script, ...rest) { process.stderr.write("worker: " + script + "\\n"); super(script, ...rest); }
};
syncBuiltinESMExports();
`;

describe("bundled CLI", () => {
  it("starts its worker threads from the bundle", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < PARALLEL_MIN_FILES + 2; i++) files[`m${i}.py`] = "@fixtures/seed/keras_cifar2.py";
    const root = tempTree(files);
    const spy = join(root, "spy.mjs");
    writeFileSync(spy, SPY);
    const run = spawnSync(process.execPath, ["--import", spy, bin, "--threads", "2", "-f", "json", "."], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout)).toHaveLength(PARALLEL_MIN_FILES + 2);
    expect(run.stderr.trim().split("\n")).toEqual([`worker: ${join(repo, "dist/bundle/lint-worker.js")}`, `worker: ${join(repo, "dist/bundle/lint-worker.js")}`]);
  });

});

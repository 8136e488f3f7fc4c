import { describe, expect, it } from "vitest";
import { cli, tempTree } from "../helpers/cli.js";
import { rules } from "../../rules/index.js";

describe("--statistics and --explain", () => {
  it("--statistics counts problems per rule, most frequent first, with fixable counts", async () => {
    const root = tempTree({ "a.py": "@fixtures/seed/keras_cifar2.py", "b.py": "@fixtures/reused-batchnorm/loop_range.py" });
    const run = await cli(["--statistics", "."], root);
    expect(run.stdout).toBe(["5  reused-batchnorm     [4 fixable]", "2  unused-batchnorm", "1  batchnorm-on-logits", ""].join("\n"));
    expect(run.code).toBe(1);
  });

  it("--explain all prints every rule's documentation", async () => {
    const run = await cli(["--explain", "all"], process.cwd());
    expect(run.code).toBe(0);
    for (const r of rules) {
      expect(run.stdout).toContain(`# \`${r.meta.id}\``);
      expect(run.stdout).toContain(r.meta.docs.knownLimitations);
    }
  });
});

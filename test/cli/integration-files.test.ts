import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { cli, tempTree } from "../helpers/cli.js";

const repo = new URL("../../", import.meta.url).pathname;

/** `entry:` lines of .pre-commit-hooks.yaml, as argument lists after the `bnlint` command. */
function hookEntries(): Record<string, string[]> {
  const text = readFileSync(`${repo}.pre-commit-hooks.yaml`, "utf8");
  const out: Record<string, string[]> = {};
  for (const block of text.split(/^- /m).slice(1)) {
    const id = /^id:\s*(\S+)/m.exec(block)![1];
    const entry = /^\s*entry:\s*(.+)$/m.exec(block)![1].trim().split(/\s+/);
    expect(entry[0]).toBe("bnlint");
    out[id] = entry.slice(1);
  }
  return out;
}

describe("integration files", () => {
  it("the pre-commit hooks run as pre-commit calls them (file names appended) and honour exclude", async () => {
    const hooks = hookEntries();
    expect(Object.keys(hooks)).toEqual(["bnlint", "bnlint-fix"]);
    const root = tempTree({ "bnlint.toml": 'exclude = ["legacy/"]\n', "net.py": "@fixtures/reused-batchnorm/direct_twice.py", "legacy/old.py": "@fixtures/reused-batchnorm/direct_twice.py" });
    const lint = await cli([...hooks.bnlint, "net.py", "legacy/old.py"], root);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain("net.py");
    expect(lint.stdout).not.toContain("old.py");
    const fix = await cli([...hooks["bnlint-fix"], "net.py"], root);
    expect(fix.code).toBe(0);
    expect(readFileSync(`${root}/net.py`, "utf8")).toContain("self.bn_2 = nn.BatchNorm2d(32)");
  });

  it("the GitHub Action runs bnlint with options the CLI accepts", async () => {
    const action = readFileSync(`${repo}action.yml`, "utf8");
    const flags = [...action.matchAll(/bin\/bnlint\.js"((?: --?[\w-]+(?: (?!["$])\S+)?)+)/g)].flatMap((m) => m[1].trim().split(/\s+/));
    expect(flags).toEqual(["--format", "sarif", "--output-file", "--format", "github"]);
    const root = tempTree({ "net.py": "@fixtures/clean/simsiam.py" });
    expect((await cli(["--format", "sarif", "--output-file", "out.sarif", "."], root)).code).toBe(0);
    expect((await cli(["--format", "github", "."], root)).code).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { cli, tempTree } from "../helpers/cli.js";

const seed = "@fixtures/seed/keras_cifar2.py";

function messages(stdout: string): string[] {
  return JSON.parse(stdout).flatMap((f: { messages: { line: number; message: string }[] }) => f.messages.map((m) => `${m.line} ${m.message.slice(0, 30)}`));
}

describe("--cache", () => {
  it("reuses the stored result of an unchanged file, and relints when the content or the configuration changes", async () => {
    const root = tempTree({ "net.py": seed });
    const first = await cli(["--cache", "-f", "json", "."], root);
    expect(existsSync(`${root}/.bnlintcache`)).toBe(true);
    expect(messages((await cli(["--cache", "-f", "json", "."], root)).stdout)).toEqual(messages(first.stdout));

    // Proof that the second run did not lint: a result edited inside the cache is what it reports.
    const cache = JSON.parse(readFileSync(`${root}/.bnlintcache`, "utf8"));
    const entry = Object.values(cache.entries)[0] as { result: { messages: { message: string }[] } };
    entry.result.messages[0].message = "FROM THE CACHE";
    writeFileSync(`${root}/.bnlintcache`, JSON.stringify(cache));
    const cached = await cli(["--cache", "-f", "json", "."], root);
    expect(messages(cached.stdout)[0]).toBe("26 FROM THE CACHE");
    // Stylish code frames still work from a cached result.
    expect((await cli(["--cache", "."], root)).stdout).toContain("> 49 |         x = self.bn_6(x)");

    // Another configuration is another key.
    writeFileSync(`${root}/bnlint.toml`, 'rules = { "unused-batchnorm" = "off" }\n');
    const configured = messages((await cli(["--cache", "-f", "json", "."], root)).stdout);
    expect(configured).not.toContain("26 FROM THE CACHE");
    expect(configured).toHaveLength(5);

    // Changed content is linted again.
    writeFileSync(`${root}/net.py`, `${readFileSync(`${root}/net.py`, "utf8")}\n# edited\n`);
    expect(messages((await cli(["--cache", "-f", "json", "--no-config", "."], root)).stdout)).toEqual(messages(first.stdout));
  });

  it("a corrupt cache file is ignored", async () => {
    const root = tempTree({ "net.py": seed, ".bnlintcache": "{not json" });
    const run = await cli(["--cache", "-f", "json", "."], root);
    expect(messages(run.stdout)).toHaveLength(7);
  });
});

describe("progress bar", () => {
  const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`m${String(i).padStart(2, "0")}.py`, "@fixtures/clean/simsiam.py"]));

  it("is drawn on a terminal's stderr for long runs and cleared at the end", async () => {
    const root = tempTree(many);
    const run = await cli(["."], root, { stderr: true });
    expect(run.stderr).toMatch(/^\r\x1b\[Kbnlint \[\.{24}\] 0\/25 files/);
    expect(run.stderr.endsWith("\r\x1b[K")).toBe(true);
    expect(run.stdout).toBe("");
  });

  it("is silent when stderr is not a terminal, with --quiet, and for short runs", async () => {
    const root = tempTree(many);
    expect((await cli(["."], root)).stderr).toBe("");
    expect((await cli(["--quiet", "."], root, { stderr: true })).stderr).toBe("");
    expect((await cli(["m00.py"], root, { stderr: true })).stderr).toBe("");
  });
});

// Plain linting must not pay for the language server: vscode-languageserver is loaded by `bnlint lsp` only.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = new URL("../../dist/src/cli/main.js", import.meta.url).href;
const SEED = fileURLToPath(new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url));

describe("lazy loading", () => {
  it("a plain lint run never loads vscode-languageserver", () => {
    const script = `
      import { createRequire } from "node:module";
      const { runCli } = await import(${JSON.stringify(CLI)});
      const code = await runCli([${JSON.stringify(SEED)}, "--format", "json"], { stdout() {}, stderr() {}, isTTY: false, env: {}, cwd: process.cwd() });
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("vscode-languageserver"));
      console.log(JSON.stringify({ code, loaded }));`;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual({ code: 1, loaded: [] });
  });
});

// A real editor: Neovim's built-in LSP client, headless, starts `bnlint lsp`, opens the seed fixture, edits it
// like a user and applies a quick fix (test/lsp/nvim/check.lua). Needs `nvim` (Debian's neovim, 0.7 or newer).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BNLINT_BIN } from "../helpers/lsp-client.js";

const SEED = fileURLToPath(new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./nvim/check.lua", import.meta.url));
const hasNvim = spawnSync("nvim", ["--version"]).status === 0;
// CI installs neovim (.ci/run): there a missing nvim is a failure, locally the test is skipped.
const run = hasNvim || process.env.CI ? it : it.skip;

interface Step {
  name: string;
  changed: boolean;
  diagnostics: { line: number; col: number; code: string | null; severity: number; source: string; message: string }[];
}

const ERROR = 1;
const WARN = 2;
const INFO = 3;

describe("Neovim's LSP client", () => {
  run("shows the seed's findings, drops a fixed reuse, survives half-typed code and applies a quick fix", () => {
    expect(hasNvim, "nvim is not installed (apt-get install -y neovim)").toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "bnlint-nvim-"));
    try {
      const fixture = join(dir, "keras_cifar2.py");
      copyFileSync(SEED, fixture);
      const out = join(dir, "out.json");
      const proc = spawnSync("nvim", ["--headless", "--clean", "-n", "-c", `luafile ${SCRIPT}`], {
        env: { ...process.env, BNLINT_NVIM_OUT: out, BNLINT_FIXTURE: fixture, BNLINT_NODE: process.execPath, BNLINT_BIN },
        timeout: 120_000,
        encoding: "utf8",
      });
      expect(existsSync(out), `nvim wrote no result (status ${proc.status}, ${proc.error?.message ?? ""}): ${proc.stderr}`).toBe(true);
      const result = JSON.parse(readFileSync(out, "utf8")) as { steps: Step[]; error?: string; code_action_titles: string[]; line_55_after_action: string; hover: string };
      expect(result.error).toBeUndefined();
      expect(proc.status).toBe(0);
      const lines = (name: string) => result.steps.find((s) => s.name === name)!.diagnostics.map((d) => [d.line, d.code, d.severity]);

      const opened = result.steps.find((s) => s.name === "opened")!;
      expect(opened.diagnostics.every((d) => d.source === "bnlint")).toBe(true);
      expect(lines("opened")).toEqual([
        [26, "unused-batchnorm", WARN], [28, "unused-batchnorm", WARN],
        [49, "reused-batchnorm", ERROR], [54, "reused-batchnorm", ERROR], [59, "reused-batchnorm", ERROR], [61, "reused-batchnorm", ERROR],
        [65, "batchnorm-on-logits", WARN],
      ]);
      expect(opened.diagnostics.find((d) => d.line === 49)!.col).toBe(13);
      // One line inserted above: the fixed call (now line 50) is gone, the rest moved down by one.
      expect(lines("fixed-first-reuse")).toEqual([
        [26, "unused-batchnorm", WARN], [28, "unused-batchnorm", WARN],
        [55, "reused-batchnorm", ERROR], [60, "reused-batchnorm", ERROR], [62, "reused-batchnorm", ERROR],
        [66, "batchnorm-on-logits", WARN],
      ]);
      expect(lines("half-typed")).toEqual([[55, null, INFO]]);
      expect(lines("completed")).toEqual(lines("fixed-first-reuse"));
      expect(result.steps.every((s) => s.changed)).toBe(true);

      // The rule's fix and suggestions, then the two disable actions.
      expect(result.code_action_titles.slice(-2)).toEqual(["Disable reused-batchnorm for this line", "Disable reused-batchnorm for this file"]);
      expect(result.code_action_titles[0]).toMatch(/^Give /);
      expect(result.line_55_after_action).toBe("        x = self.bn_7(x)  # bnlint: disable=reused-batchnorm");
      expect(result.hover).toContain("**`self.bn_7`** · `BatchNorm2d(64)` · declared at line 33");
      expect(result.hover).toContain("- `Keras_Cifar2`: 2 times (lines 53, 55)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, cpSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runCli } from "../../src/cli/main.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process as a user would from `cwd`, capturing its output. */
export async function cli(args: string[], cwd: string, tty: { stderr?: boolean } = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), isTTY: false, stderrIsTTY: tty.stderr ?? false, env: {}, cwd });
  return { code, stdout, stderr };
}

/** A fresh temporary folder holding the given files (path → text, or a fixture path to copy with `@`). */
export function tempTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "bnlint-test-"));
  const repo = new URL("../../", import.meta.url).pathname;
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (content.startsWith("@")) cpSync(join(repo, content.slice(1)), full);
    else writeFileSync(full, content);
  }
  return root;
}

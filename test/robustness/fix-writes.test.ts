// `--fix` never loses a file: killed mid-run every file is the original or the fully fixed text; read-only
// files are reported and left alone while the others are fixed.
import { describe, expect, it } from "vitest";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BNLINT_BIN } from "../helpers/lsp-client.js";

const SEED = new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;
const COPIES = 200;
/** Where an interrupted write leaves its temporary file: beside the target, hidden, never a linted extension. */
const TEMP_FILE = /^\.net_\d{3}\.py\.bnlint-\d+-[0-9a-f]{8}\.tmp$/;

function bnlint(args: string[], cwd: string) {
  return spawnSync(process.execPath, [BNLINT_BIN, ...args], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
}

function copies(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), "bnlint-fixkill-"));
  for (let i = 0; i < count; i++) copyFileSync(SEED, join(dir, `net_${String(i).padStart(3, "0")}.py`));
  return dir;
}

/** The seed as `--fix --unsafe-fixes` leaves it, computed by an uninterrupted run. */
function fullyFixedText(): string {
  const dir = copies(1);
  const run = bnlint(["--fix", "--unsafe-fixes", "net_000.py"], dir);
  expect(run.status).toBe(0);
  const fixed = readFileSync(join(dir, "net_000.py"), "utf8");
  expect(fixed).not.toBe(readFileSync(SEED, "utf8"));
  return fixed;
}

/** Starts a fixing run over `dir` and SIGKILLs it `afterMs` after the first file changed (or at exit). */
function fixAndKill(dir: string, afterMs: number, original: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BNLINT_BIN, "--fix", "--unsafe-fixes", "-f", "json", "."], { cwd: dir, stdio: "ignore" });
    const first = join(dir, "net_000.py");
    const poll = setInterval(() => {
      if (readFileSync(first, "utf8") === original) return;
      clearInterval(poll);
      setTimeout(() => child.kill("SIGKILL"), afterMs);
    }, 2);
    child.on("exit", () => {
      clearInterval(poll);
      resolve();
    });
  });
}

describe("--fix writes through a temporary file and rename", () => {
  it("a SIGKILL mid-run leaves every file original or fully fixed, and no temporary file is linted", async () => {
    const original = readFileSync(SEED, "utf8");
    const fixed = fullyFixedText();
    let interrupted = 0;
    const delays = [0, 30, 150];
    for (const afterMs of delays) {
      const dir = copies(COPIES);
      await fixAndKill(dir, afterMs, original);
      const names = readdirSync(dir);
      const models = names.filter((n) => n.endsWith(".py"));
      expect(models).toHaveLength(COPIES);
      const states = models.map((n) => {
        const text = readFileSync(join(dir, n), "utf8");
        return text === original ? "original" : text === fixed ? "fixed" : `broken (${text.length} chars)`;
      });
      expect(states.filter((s) => s !== "original" && s !== "fixed")).toEqual([]);
      console.log(`killed ${afterMs} ms after the first write: ${states.filter((s) => s === "fixed").length}/${COPIES} fixed, ${names.length - models.length} temp files`);
      if (states.includes("original") && states.includes("fixed")) interrupted++;
      // A kill between writing and renaming may leave a hidden .tmp file; it is never linted.
      expect(names.filter((n) => !n.endsWith(".py") && !TEMP_FILE.test(n))).toEqual([]);
      const lint = bnlint(["-f", "json", "."], dir);
      const linted = JSON.parse(lint.stdout).map((r: { filePath: string }) => r.filePath);
      expect(linted).toHaveLength(COPIES);
      expect(linted.every((p: string) => p.endsWith(".py"))).toBe(true);
      if (afterMs !== delays.at(-1)) continue;
      // Running again finishes the job.
      expect(bnlint(["--fix", "--unsafe-fixes", "."], dir).status).toBe(0);
      expect(models.every((n) => readFileSync(join(dir, n), "utf8") === fixed)).toBe(true);
    }
    // The kills did land mid-run (some files fixed, some not), so the check above saw interrupted runs.
    expect(interrupted).toBeGreaterThan(0);
  }, 120_000);
});

describe("--fix and read-only files", () => {
  it("reports a read-only file, leaves it untouched and still fixes the others", () => {
    const dir = copies(3);
    const locked = join(dir, "net_001.py");
    chmodSync(locked, 0o444);
    const before = readFileSync(locked);
    const run = bnlint(["--fix", "--unsafe-fixes", "."], dir);
    expect(run.stderr).toContain(`bnlint: cannot fix ${locked}: the file is read-only; it was left unchanged`);
    expect(run.status).toBe(2);
    expect(readFileSync(locked)).toEqual(before);
    expect(statSync(locked).mode & 0o777).toBe(0o444);
    const fixed = readFileSync(join(dir, "net_000.py"), "utf8");
    expect(fixed).not.toBe(before.toString("utf8"));
    expect(readFileSync(join(dir, "net_002.py"), "utf8")).toBe(fixed);
    // The read-only file's findings are still reported.
    expect(run.stdout).toContain("net_001.py");
    expect(readdirSync(dir).sort()).toEqual(["net_000.py", "net_001.py", "net_002.py"]);
  });

  it("a read-only file in a --fix-dry-run is shown like any other (nothing is written)", () => {
    const dir = copies(1);
    chmodSync(join(dir, "net_000.py"), 0o444);
    const run = bnlint(["--fix-dry-run", "net_000.py"], dir);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("+        self.bn_6_2 = nn.BatchNorm2d(32)");
  });
});

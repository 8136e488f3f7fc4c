// Real PyTorch settles what batchnorm-shape-mismatch claims: every finding in the mismatch fixtures is where
// PyTorch raises, with the error the message quotes, and every clean fixture runs.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { lintText } from "../src/index.js";
import { fixtureFiles } from "./helpers/expectations.js";

const repo = new URL("../", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" }).status === 0;

interface ModelRun {
  class: string;
  input: string;
  params: Record<string, number>;
  ok: boolean;
  error: string | null;
  error_type: string | null;
  lines: number[];
  module_line: number | null;
}

function runInTorch(paths: string[]): Map<string, ModelRun[]> {
  const out = spawnSync(PYTHON, [`${repo}test/python/shape_ground_truth.py`, ...paths], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (out.status !== 0) throw new Error(`shape_ground_truth.py failed: ${out.stderr}`);
  const runs = new Map<string, ModelRun[]>();
  for (const line of out.stdout.trim().split("\n")) {
    const r = JSON.parse(line) as { file: string; models: ModelRun[]; error: string | null };
    if (r.error) throw new Error(`${r.file}: ${r.error}`);
    runs.set(r.file, r.models);
  }
  return runs;
}

/** Puts numbers into bnlint's symbolic error text: `planes * 2` with planes = 16 → `32`, `Nx` → batch size. */
function instantiate(quoted: string, params: Record<string, number>, batch: number): string {
  const evaluate = (expr: string): number =>
    expr.split(/\s*\+\s*/).reduce((sum, term) => sum + term.split(/\s*\*\s*/).reduce((p, f) => p * (f in params ? params[f] : Number(f)), 1), 0);
  return quoted
    .replace(/(?:[A-Za-z_]\w*|\d+)(?:\s*[*+]\s*(?:[A-Za-z_]\w*|\d+))*/g, (m) => (m.match(/[A-Za-z_]\w*/g) ?? []).every((id) => id in params) ? String(evaluate(m)) : m)
    .replace(/\(Nx/, `(${batch}x`);
}

const available = hasTorch || process.env.CI ? describe : describe.skip;

available("batchnorm-shape-mismatch against real PyTorch", () => {
  it("has torch on /usr/bin/python3 (CI installs python3-torch)", () => {
    expect(hasTorch).toBe(true);
  });

  const mismatchDir = `${repo}fixtures/batchnorm-shape-mismatch`;
  const cleanDir = `${repo}fixtures/clean`;

  it("every mismatch finding is where PyTorch raises, with the error its message quotes", async () => {
    const runs = runInTorch([mismatchDir]);
    const files = fixtureFiles(mismatchDir);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) {
      const result = await lintText(readFileSync(file, "utf8"), file, { rules: {} });
      const findings = result.messages.filter((m) => m.ruleId === "batchnorm-shape-mismatch");
      const models = runs.get(file) ?? [];
      expect(models.length, `${file} has a torch-check line`).toBeGreaterThan(0);
      const failing = models.filter((m) => !m.ok);
      // Both ways: each finding explains a failure, and each failure has its finding.
      expect(failing.length, `${file}: every model raises`).toBe(models.length);
      for (const model of failing) {
        const at = (line: number) => model.lines[model.lines.length - 1] === line || model.module_line === line;
        const finding = findings.find((f) => at(f.range.start.line));
        expect(finding, `${file}: PyTorch raised at line ${model.lines.join(">")} (${model.error}) without a finding there`).toBeDefined();
        const quoted = /PyTorch raises `([^`]+)`/.exec(finding!.message)?.[1];
        const batch = Number(/\d+/.exec(model.input)![0]);
        expect(instantiate(quoted ?? "", model.params, batch), file).toBe(`${model.error_type}: ${model.error}`);
      }
      expect(findings.length, `${file}: findings without a PyTorch failure`).toBe(failing.length);
    }
  });

  it("every clean fixture runs in PyTorch", () => {
    const runs = runInTorch([cleanDir]);
    const failures = [...runs].flatMap(([file, models]) => models.filter((m) => !m.ok).map((m) => `${file}: ${m.class}: ${m.error}`));
    expect(failures).toEqual([]);
    expect([...runs.values()].flat().length).toBeGreaterThanOrEqual(fixtureFiles(cleanDir).length);
  });
});

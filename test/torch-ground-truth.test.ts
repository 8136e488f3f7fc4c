import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { DEBIAN_PYTHON, hasTorch, requireSystem } from "./helpers/system.js";
import { MODEL_FIXTURE_FOLDERS } from "./helpers/expectations.js";

const repo = new URL("../", import.meta.url).pathname;

// Every fixture model runs in real PyTorch, and its BatchNorm call counts agree with the markers
// (a reused BatchNorm really runs 2+ times per forward, an unused one 0 times): the fixtures are real code.
describe.runIf(requireSystem("python3-torch", hasTorch()))("fixtures against real PyTorch", () => {
  it("every fixture model runs and its markers match the BatchNorm call counts", () => {
    // The model-class fixtures of the graph rules. Shape-mismatch fixtures raise on purpose
    // (test/shapes-torch.test.ts checks them); training-script fixtures have their own tests.
    const folders = MODEL_FIXTURE_FOLDERS.map((d) => `fixtures/${d}`);
    const r = spawnSync(DEBIAN_PYTHON, ["test/python/torch_ground_truth.py", "--check", ...folders], { cwd: repo, encoding: "utf8", timeout: 300_000 });
    const lines = r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(40);
    const failures = lines.flatMap((f: { file: string; models: { class: string; ok: boolean; error?: string }[] }) =>
      f.models.filter((m) => !m.ok).map((m) => `${f.file} ${m.class}: ${m.error}`),
    );
    expect(failures).toEqual([]);
    expect(r.status, r.stderr.split("\n").slice(-15).join("\n")).toBe(0);
  });
});

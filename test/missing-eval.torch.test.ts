import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lintText } from "../src/index.js";
import rule from "../rules/missing-eval.js";
import { readText } from "./helpers/expectations.js";
import { DEBIAN_PYTHON, hasTorch, requireSystem } from "./helpers/system.js";

const fixture = new URL("../fixtures/missing-eval/export_trace_in_train.py", import.meta.url).pathname;

/** Runs the script in real PyTorch and returns the max difference it prints between the traced model and the model in eval mode. */
function tracedVsEval(code: string): number {
  const dir = mkdtempSync(join(tmpdir(), "bnlint-trace-"));
  const file = join(dir, "export.py");
  writeFileSync(file, code);
  const r = spawnSync(DEBIAN_PYTHON, ["-B", "-W", "ignore", file], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  const m = /max difference ([\d.e-]+)/.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return Number(m![1]);
}

describe.runIf(requireSystem("python3-torch", hasTorch()))("missing-eval against real PyTorch", () => {
  it("a model traced in training mode keeps batch statistics after .eval(), as reported; traced after .eval() it matches", async () => {
    const text = readText(fixture);
    const messages = (await lintText(text, fixture, { ruleSet: [rule] })).messages;
    expect(messages.map((m) => [m.messageId, m.range.start.line])).toEqual([["tracedInTraining", 35]]);
    expect(tracedVsEval(text)).toBeGreaterThan(0.01);

    // The fix the message asks for: `model.eval()` before tracing.
    const lines = text.split("\n");
    lines.splice(34, 0, "    model.eval()");
    const fixed = lines.join("\n");
    expect((await lintText(fixed, fixture, { ruleSet: [rule] })).messages).toEqual([]);
    expect(tracedVsEval(fixed)).toBeLessThan(1e-5);
  });
});

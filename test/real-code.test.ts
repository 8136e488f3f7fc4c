import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { lintFiles } from "../src/index.js";
import { knownTorchvisionBugs, requireSystem, TORCH_NN, TORCHVISION_MODELS } from "./helpers/system.js";

// Real, correct code nobody here wrote: every other finding on it is a false positive, i.e. a bug in bnlint.
describe.runIf(requireSystem("python3-torchvision", existsSync(TORCHVISION_MODELS)))("real code", () => {
  it("finds nothing in torchvision's model sources but MaxViT's upstream-confirmed Keras momentum", async () => {
    const results = await lintFiles([TORCHVISION_MODELS]);
    expect(results.length).toBeGreaterThan(40);
    const findings = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.range.start.line} ${m.ruleId}`));
    expect(findings).toEqual(knownTorchvisionBugs());
  });

  it("finds nothing in torch.nn's own sources", async () => {
    const results = await lintFiles([TORCH_NN]);
    expect(results.length).toBeGreaterThan(40);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.range.start.line} ${m.ruleId}`))).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lintText } from "../src/index.js";
import rule from "../rules/batchnorm-batch-size-one.js";
import { readText } from "./helpers/expectations.js";

// Debian's Python has torch (installed by .ci/run); the pyenv `python3` first on PATH does not.
const PYTHON = "/usr/bin/python3";
const fixture = new URL("../fixtures/batchnorm-batch-size-one/tabular_last_batch.py", import.meta.url).pathname;

function runPython(code: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "bnlint-bs1-"));
  const file = join(dir, "script.py");
  writeFileSync(file, code);
  const r = spawnSync(PYTHON, ["-B", file], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stderr: r.stderr };
}

describe("batchnorm-batch-size-one against real PyTorch", () => {
  it("the reported script crashes as the message says, and the fixed script trains", async () => {
    const text = readText(fixture);
    const [finding] = (await lintText(text, fixture, { ruleSet: [rule] })).messages;
    expect(finding.messageId).toBe("lastBatchOne");

    const before = runPython(text);
    expect(before.status).not.toBe(0);
    expect(before.stderr).toContain("Expected more than 1 value per channel when training");

    const [edit] = finding.fix!.edits;
    const fixed = text.slice(0, edit.range[0]) + edit.text + text.slice(edit.range[1]);
    expect((await lintText(fixed, fixture, { ruleSet: [rule] })).messages).toEqual([]);
    const after = runPython(fixed);
    expect(after.stderr).toBe("");
    expect(after.status).toBe(0);
  });

  it("a BatchNorm2d after global pooling crashes on a batch of one as reported, and trains on batches of two", async () => {
    const path = new URL("../fixtures/batchnorm-batch-size-one/deeplab_image_pooling.py", import.meta.url).pathname;
    const text = readText(path);
    const [finding] = (await lintText(text, path, { ruleSet: [rule] })).messages;
    expect(finding.message).toContain("runs `self.aspp.image_pool[2]` (BatchNorm2d(out_ch)) on (N, C, 1, 1) maps");
    const before = runPython(text);
    expect(before.stderr).toContain("ValueError: Expected more than 1 value per channel when training, got input size torch.Size([1, 16, 1, 1])");

    const pairs = text.replace("batch_size=1,", "batch_size=2,");
    expect((await lintText(pairs, path, { ruleSet: [rule] })).messages).toEqual([]);
    const after = runPython(pairs);
    expect(after.stderr).toBe("");
    expect(after.status).toBe(0);
  });

  it("torchvision's DeepLabV3 fine-tuned on batches of one fails in the module the message names", async () => {
    const path = new URL("../fixtures/batchnorm-batch-size-one/torchvision_deeplab_finetune.py", import.meta.url).pathname;
    const text = readText(path);
    const [finding] = (await lintText(text, path, { ruleSet: [rule] })).messages;
    expect(finding.message).toContain("runs `model.classifier[0].convs[4][2]` (BatchNorm2d(256)");
    // The named module is a BatchNorm2d(256) right after the ASPP image pooling, and training stops there.
    const probe = runPython(text.replace("model.train()", [
      "bn = model.classifier[0].convs[4][2]",
      "print(type(bn).__name__, bn.num_features, type(model.classifier[0].convs[4][0]).__name__)",
      "model.train()",
    ].join("\n")));
    expect(probe.stderr).toContain("ValueError: Expected more than 1 value per channel when training, got input size torch.Size([1, 256, 1, 1])");
    const named = spawnSync(PYTHON, ["-c", [
      "from torchvision.models.segmentation import deeplabv3_resnet50",
      "m = deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=2)",
      "bn = m.classifier[0].convs[4][2]",
      "print(type(bn).__name__, bn.num_features, type(m.classifier[0].convs[4][0]).__name__)",
    ].join("\n")], { encoding: "utf8", timeout: 120_000 });
    expect(named.stdout.trim()).toBe("BatchNorm2d 256 AdaptiveAvgPool2d");
  });
});

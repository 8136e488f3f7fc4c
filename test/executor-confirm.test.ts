// `--confirm`: what a user sees in each finding's confirmation.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { lintText } from "../src/index.js";
import { runCli } from "../src/cli/main.js";
import { parsePython } from "../src/frontend/python/parser.js";
import { indexPython } from "../src/frontend/python/indexer.js";
import { confirmDiagnostics } from "../src/executor/index.js";
import type { Diagnostic } from "../src/engine/diagnostic.js";
import type { ModelArgs } from "../src/engine/linter.js";
import { rangeFromIndices } from "../src/model/source.js";
import { readText } from "./helpers/expectations.js";

const seedPath = new URL("../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;
const seed = readFileSync(seedPath, "utf8");

describe("--confirm", () => {
  it("confirms every finding of the forum model with numbers", { timeout: 300_000 }, async () => {
    const result = await lintText(seed, seedPath, { confirm: true });
    const byRule = (id: string) => result.messages.filter((m) => m.ruleId === id);
    for (const m of result.messages) expect(m.confirmation, `line ${m.range.start.line}`).toBeDefined();
    for (const m of byRule("reused-batchnorm")) {
      expect(m.confirmation!.status).toBe("confirmed");
      expect(m.confirmation!.summary).toMatch(/train\/eval agreement \d+% \(fixed: \d+%\)/);
      expect(m.confirmation!.summary).toContain("Keras_Cifar2(rank1=8, rank2=16) (values from line 71)");
      expect(m.confirmation!.metrics.agreement as number).toBeLessThan(m.confirmation!.metrics.fixedAgreement as number);
    }
    expect(byRule("unused-batchnorm").map((m) => [m.confirmation!.status, m.confirmation!.metrics.calls])).toEqual([["confirmed", 0], ["confirmed", 0]]);
    expect(byRule("batchnorm-on-logits")[0].confirmation!.summary).toMatch(/% of predictions change when the same sample sits in a different batch/);
  });

  it("confirms missing-eval with how far training mode moves predictions and BatchNorm outputs", { timeout: 300_000 }, async () => {
    const dir = new URL("../fixtures/missing-eval/", import.meta.url).pathname;
    const mnist = `${dir}mnist_test_without_eval.py`;
    const [finding] = (await lintText(readFileSync(mnist, "utf8"), mnist, { confirm: true })).messages;
    expect(finding.ruleId).toBe("missing-eval");
    expect(finding.confirmation!.status).toBe("confirmed");
    expect(finding.confirmation!.summary).toMatch(/^called in training mode, as this code calls it: on batches whose samples resemble each other \(as one class or one source would\) \d+% of predictions differ from those after model\.eval\(\) and the output of `self\.bn\d` \(line 2[23]\) differs from eval mode by \d+% of its size; on independent samples/);
    const metrics = finding.confirmation!.metrics;
    expect(metrics.batchNormOutputDifference as number).toBeGreaterThanOrEqual(0.1);
    expect(metrics.smallBatch).toBe(2);
    for (const key of ["disagreement", "smallBatchDisagreement", "correlatedBatchDisagreement", "batchDependence"]) expect(typeof metrics[key], key).toBe("number");

    // A torchvision model is not a class of the file: nothing to execute, said plainly.
    const resnet = `${dir}pretrained_resnet_inference.py`;
    const [tv] = (await lintText(readFileSync(resnet, "utf8"), resnet, { confirm: true })).messages;
    expect(tv.confirmation).toEqual({ status: "not-run", summary: "`torchvision.models.resnet18()` is not a model class of this file: bnlint executes only those", metrics: {} });
  });

  it("confirms missing-eval when training mode changes what the model returns, and keeps the finding", { timeout: 300_000 }, async () => {
    const path = new URL("../fixtures/missing-eval/bnneck_reid_features.py", import.meta.url).pathname;
    const result = await lintText(readFileSync(path, "utf8"), path, { confirm: true });
    expect(result.messages.map((m) => [m.ruleId, m.range.start.line, m.fatal ?? false])).toEqual([["missing-eval", 32, false]]);
    expect(result.messages[0].confirmation).toMatchObject({
      status: "confirmed",
      summary: "called in training mode, as this code calls it, Baseline() returns a different output: shape [8, 751] where eval mode returns [8, 64] (its forward depends on `self.training`). Ran input [8, 3, 32, 32] (read off the first layer).",
      metrics: { trainShape: "[8,751]", evalShape: "[8,64]" },
    });
  });

  it("builds a model through a builder wrapper's parameters (torchvision's _resnet(block, layers, **kwargs))", { timeout: 300_000 }, async () => {
    const text = [
      "import torch.nn as nn",
      "",
      "class BasicBlock(nn.Module):",
      "    def __init__(self, planes):",
      "        super().__init__()",
      "        self.conv = nn.Conv2d(planes, planes, 3, padding=1, bias=False)",
      "        self.bn = nn.BatchNorm2d(planes)",
      "",
      "    def forward(self, x):",
      "        return (self.bn(self.conv(x)) + x).relu()",
      "",
      "class ResNet(nn.Module):",
      "    def __init__(self, block, layers, num_classes=10):",
      "        super().__init__()",
      "        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)",
      "        self.bn = nn.BatchNorm2d(16)",
      "        self.blocks = nn.Sequential(*[block(16) for _ in range(layers[0])])",
      "        self.fc = nn.Linear(16, num_classes)",
      "",
      "    def forward(self, x):",
      "        x = self.bn(self.stem(x)).relu()",
      "        x = self.bn(self.blocks(x))",
      "        return self.fc(x.mean((2, 3)))",
      "",
      "def _resnet(block, layers, pretrained, **kwargs):",
      "    return ResNet(block, layers, **kwargs)",
      "",
      "def resnet10(pretrained=False, **kwargs):",
      "    return _resnet(BasicBlock, [2, 2], pretrained, **kwargs)",
    ].join("\n");
    const reuse = (await lintText(text, "zoo.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(reuse.confirmation!.status).toBe("confirmed");
    expect(reuse.confirmation!.summary).toContain("Ran ResNet(block=BasicBlock, layers=[2, 2]) (values from line 26, the call of `_resnet` at line 29)");

    // Without the builders, bnlint's guesses do not build it: the reason says how to give a class and a list.
    const classesOnly = text.slice(0, text.indexOf("def _resnet"));
    const guessed = (await lintText(classesOnly, "zoo.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(guessed.confirmation).toMatchObject({ status: "not-run", summary: expect.stringContaining("bnlint guessed `block`, `layers`: pass the real values with --model-args ResNet=block=<value>,layers=<value>") });
    const lines: string[] = [];
    const file = `${process.env.TMPDIR ?? "/tmp"}/bnlint-zoo-${process.pid}.py`;
    (await import("node:fs")).writeFileSync(file, classesOnly);
    const io = { stdout: (s: string) => lines.push(s), stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
    expect(await runCli([file, "--confirm", "--format", "json", "--model-args", "ResNet=block=BasicBlock,layers=[2,2]"], io)).toBe(1);
    const [entry] = JSON.parse(lines.join("")) as { messages: { ruleId: string; confirmation?: { status: string; summary: string } }[] }[];
    const given = entry.messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(given.confirmation!.status).toBe("confirmed");
    expect(given.confirmation!.summary).toContain("Ran ResNet(block=BasicBlock, layers=(2, 2)) (values from --model-args)");
  });

  it("names the agreement of a model that returns a map (CBAM's attention block) for what it is", { timeout: 300_000 }, async () => {
    const path = new URL("../fixtures/reused-batchnorm/cbam_shared_mlp.py", import.meta.url).pathname;
    const found = (await lintText(readFileSync(path, "utf8"), path, { confirm: true })).messages.filter((m) => m.ruleId === "reused-batchnorm");
    expect(found).toHaveLength(2);
    for (const m of found) {
      expect(m.confirmation!.status).toBe("confirmed");
      expect(m.confirmation!.summary).toMatch(/^train\/eval agreement of the top channel at each position \d+% \(fixed: \d+%\)/);
    }
  });

  it("says that a conv-bias finding has no numeric check, rather than nothing", async () => {
    const text = ["import torch.nn as nn", "", "class Stem(nn.Module):", "    def __init__(self):", "        super().__init__()", "        self.conv = nn.Conv2d(3, 8, 3)", "        self.bn = nn.BatchNorm2d(8)", "", "    def forward(self, x):", "        return self.bn(self.conv(x)).relu()"].join("\n");
    const [finding] = (await lintText(text, "stem.py", { confirm: true, rules: { "conv-bias-before-batchnorm": "warning" } })).messages;
    expect(finding.ruleId).toBe("conv-bias-before-batchnorm");
    expect(finding.confirmation).toMatchObject({ status: "not-run", summary: expect.stringContaining("no numeric check for this rule") });
  });

  /** A model that calls `self.bn` at line 12 and again after `middle`, which starts at line 13. */
  const reuseAround = (imports: string, middle: string[]): string =>
    [
      "import torch.nn as nn",
      imports,
      "",
      "class Net(nn.Module):",
      "    def __init__(self):",
      "        super().__init__()",
      "        self.conv1 = nn.Conv2d(3, 8, 3)",
      "        self.conv2 = nn.Conv2d(8, 8, 3)",
      "        self.bn = nn.BatchNorm2d(8)",
      "",
      "    def forward(self, x):",
      "        x = self.bn(self.conv1(x))",
      ...middle,
      "        return self.bn(self.conv2(x))",
    ].join("\n");

  it("confirms a Keras momentum in PyTorch with how far the running statistics stray, against the equivalent momentum", { timeout: 300_000 }, async () => {
    const file = new URL("../fixtures/batchnorm-momentum/keras_port.py", import.meta.url).pathname;
    const found = (await lintText(readFileSync(file, "utf8"), file, { confirm: true })).messages.filter((m) => m.ruleId === "batchnorm-momentum");
    expect(found.map((m) => [m.range.start.line, m.model, m.modulePath])).toEqual([[9, "PortedNet", "block1.1"], [21, "PortedNet", "bn_fc"], [22, "PortedNet", "bn_cfg"]]);
    for (const m of found) {
      const c = m.confirmation!;
      expect(c.status, c.summary).toBe("confirmed");
      expect(c.metrics.meanError as number).toBeGreaterThan(2 * (c.metrics.alternativeMeanError as number));
      expect(c.metrics.alternativeMomentum).toBeCloseTo(1 - (c.metrics.momentum as number), 6);
    }
    expect(found[0].confirmation!.summary).toMatch(/^with momentum=0\.99 the running statistics of `self\.block1\[1\]` follow the last batches: .* \(momentum=0\.01: /);
    // A Keras layer in a Python file is reported but not run.
    const keras = new URL("../fixtures/batchnorm-momentum/keras_layers.py", import.meta.url).pathname;
    const [k] = (await lintText(readFileSync(keras, "utf8"), keras, { confirm: true })).messages;
    expect(k.confirmation).toMatchObject({ status: "not-run", summary: "a Keras layer: the executor runs PyTorch models" });
  });

  it("confirms a batch of one with PyTorch's own error from a train-mode pass on one sample", { timeout: 300_000 }, async () => {
    const dir = new URL("../fixtures/batchnorm-batch-size-one/", import.meta.url).pathname;
    const confirmations = [];
    for (const name of ["online_learning_batch_one.py", "tabular_last_batch.py"]) {
      const [m] = (await lintText(readFileSync(dir + name, "utf8"), dir + name, { confirm: true })).messages;
      expect(m.ruleId).toBe("batchnorm-batch-size-one");
      confirmations.push([m.model, m.modulePath, m.confirmation!.status, m.confirmation!.metrics.error]);
    }
    expect(confirmations).toEqual([
      ["MLP", "bn", "confirmed", "ValueError: Expected more than 1 value per channel when training, got input size torch.Size([1, 256])"],
      ["Regressor", "bn1", "confirmed", "ValueError: Expected more than 1 value per channel when training, got input size torch.Size([1, 64])"],
    ]);
  });

  it("finds a BatchNorm that only --model-args switches on (a boolean), and confirms its momentum there", { timeout: 300_000 }, async () => {
    const text = [
      "import torch.nn as nn",
      "",
      "class Net(nn.Module):",
      "    def __init__(self, batch_norm=False):",
      "        super().__init__()",
      "        self.fc = nn.Linear(4, 10)",
      "        self.bn = nn.BatchNorm1d(10, momentum=0.9) if batch_norm else nn.Identity()",
      "        self.out = nn.Linear(10, 2)",
      "",
      "    def forward(self, x):",
      "        return self.out(self.bn(self.fc(x)).relu())",
    ].join("\n");
    const momentum = async (modelArgs?: ModelArgs) => (await lintText(text, "net.py", { confirm: true, modelArgs })).messages.find((m) => m.ruleId === "batchnorm-momentum")!;
    expect((await momentum()).confirmation).toMatchObject({ status: "not-run", summary: expect.stringContaining("set it with --model-args") });
    const on = (await momentum({ Net: { batch_norm: true } })).confirmation!;
    expect(on.summary).toContain("Ran Net(batch_norm=True) (values from --model-args)");
    expect(on.metrics.momentum).toBe(0.9);
    const lines: string[] = [];
    const io = { stdout: (s: string) => lines.push(s), stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
    const file = `${process.env.TMPDIR ?? "/tmp"}/bnlint-bool-${process.pid}.py`;
    (await import("node:fs")).writeFileSync(file, text);
    expect(await runCli([file, "--confirm", "--format", "json", "--model-args", "Net=batch_norm=True"], io)).toBe(0);
    const [m] = JSON.parse(lines.join(""))[0].messages;
    expect(m.confirmation.metrics.model).toBe("Net(batch_norm=True) (values from --model-args)");
  });

  it("says which construct stopped execution", async () => {
    const text = reuseAround("from mylib import mystery", ["        x = mystery(x)"]);
    const result = await lintText(text, "net.py", { confirm: true });
    const reuse = result.messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(reuse.confirmation).toMatchObject({ status: "not-run" });
    expect(reuse.confirmation!.summary).toContain("mylib.mystery");
    expect(reuse.confirmation!.summary).toContain("line 13");
  });

  it("runs if/else decided by the input's sizes and by self.training, and compares only predictions when the modes return different things", { timeout: 300_000 }, async () => {
    const file = new URL("../fixtures/reused-batchnorm/branch_on_input_channels.py", import.meta.url).pathname;
    const [reuse] = (await lintText(readFileSync(file, "utf8"), file, { confirm: true })).messages;
    expect(reuse.ruleId).toBe("reused-batchnorm");
    expect(reuse.confirmation!.status).toBe("confirmed");
    expect(reuse.confirmation!.summary).toMatch(/^train\/eval agreement \d+% \(fixed: \d+%\), output values not compared \(forward runs other code in eval mode, line 28\); at line 2[56] eval-mode output/);
    expect(reuse.confirmation!.metrics.agreement as number).toBeLessThan(reuse.confirmation!.metrics.fixedAgreement as number);
  });

  it("names an unknown constructor value in a sentence that reads, and a recursive __init__ as the reason", async () => {
    const unknown = reuseAround("import torch", []).replace("nn.Conv2d(8, 8, 3)", "nn.Conv2d(8, 8, 3, padding=int(torch.rand(1)))");
    const reuse = (await lintText(unknown, "net.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(reuse.confirmation!.summary).toMatch(/^not executed: Net\(\) uses `Conv2d\(padding=int\(torch\.rand\(1\)\)\)`, whose value bnlint does not know \(line \d+\)$/);
    const recursive = [
      "import torch.nn as nn",
      "",
      "class Tree(nn.Module):",
      "    def __init__(self, levels):",
      "        super().__init__()",
      "        self.bn = nn.BatchNorm2d(3)",
      "        self.child = Tree(levels - 1) if levels > 1 else None",
      "",
      "    def forward(self, x):",
      "        x = self.bn(self.bn(x))",
      "        return self.child(x) if self.child is not None else x",
      "",
      "model = Tree(2)",
    ].join("\n");
    const found = (await lintText(recursive, "tree.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm");
    expect(found?.confirmation?.summary).toBe("not executed: Tree(levels=2) (values from line 13) contains code whose analysis stopped before the end of `Tree` (a recursive call of `__init__` (line 4), which bnlint does not follow)");
  });

  it("does not run an if/else it cannot decide in a pass, and says where it is", async () => {
    const text = reuseAround("import torch", ["        if x.shape[2:] == (30, 30):", "            x = x * 2"]);
    const reuse = (await lintText(text, "net.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(reuse.confirmation).toMatchObject({ status: "not-run" });
    expect(reuse.confirmation!.summary).toContain("an if/else whose condition depends on more than the mode and the input's sizes (line 13)");

    // Arms that return different kinds of value (a pair in training, one tensor in eval): the line of the if, not of `def`.
    const pair = reuseAround("import torch", []).replace("        return self.bn(self.conv2(x))", "        x = self.bn(self.conv2(x))\n        if self.training:\n            return x, x.mean()\n        return x");
    const split = (await lintText(pair, "net.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(split.confirmation).toMatchObject({ status: "not-run", summary: expect.stringContaining("a value chosen at run time by an if/else (line 14)") });
  });

  it("does not run a model too large for memory, and says how to make it smaller", async () => {
    const text = reuseAround("import torch", ["        x = self.wide(x.flatten(1)).view(x.shape)", "        x = self.wide2(x.flatten(1)).view(x.shape)"])
      .replace("        self.bn = nn.BatchNorm2d(8)", "        self.bn = nn.BatchNorm2d(8)\n        self.wide = nn.Linear(8192, 8192)\n        self.wide2 = nn.Linear(8192, 8192)");
    const reuse = (await lintText(text, "net.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(reuse.confirmation).toMatchObject({ status: "not-run", summary: expect.stringContaining("a model of 134,218,520 weights (more than bnlint runs; set the model's arguments with --model-args)") });
  });

  it("follows an in-place call on a name, and does not run one whose change PyTorch would share with another tensor", async () => {
    const status = async (middle: string[]) => (await lintText(reuseAround("import torch", middle), "net.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!.confirmation!;
    expect((await status(["        x.mul_(2)"])).status).not.toBe("not-run");
    expect((await status(["        x[:, :4].add_(1)"])).summary).toContain("`.add_()` on a view of another tensor (`operator.getitem`) (line 13)");
    expect((await status(["        y = x", "        x.add_(1)"])).summary).toContain("`.add_() on a tensor another name also holds`, which bnlint cannot follow (line 14)");
  });

  it("does not run a container that code it cannot see may fill", async () => {
    const text = [
      "import torch.nn as nn",
      "from mylib import add_blocks",
      "",
      "class Net(nn.Module):",
      "    def __init__(self):",
      "        super().__init__()",
      "        self.stem = nn.Conv2d(3, 8, 3)",
      "        self.bn = nn.BatchNorm2d(8)",
      "        self.body = nn.Sequential()",
      "        add_blocks(self.body, 8)",
      "",
      "    def forward(self, x):",
      "        x = self.bn(self.stem(x))",
      "        return self.bn(self.body(x))",
    ].join("\n");
    const reuse = (await lintText(text, "net.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(reuse.confirmation).toMatchObject({ status: "not-run" });
    expect(reuse.confirmation!.summary).toContain("`body` (line 9), which is handed to code bnlint cannot see and may get other modules there");
  });

  it("uses --model-args when the file does not instantiate the model, and says so", { timeout: 300_000 }, async () => {
    const text = seed.replace("model = Keras_Cifar2(8, 16)", "");
    const lines: string[] = [];
    const io = { stdout: (s: string) => lines.push(s), stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
    const file = `${process.env.TMPDIR ?? "/tmp"}/bnlint-confirm-${process.pid}.py`;
    (await import("node:fs")).writeFileSync(file, text);
    const code = await runCli([file, "--confirm", "--format", "json", "--model-args", "Keras_Cifar2=rank1=4,rank2=16"], io);
    expect(code).toBe(1);
    const [entry] = JSON.parse(lines.join("")) as { messages: { ruleId: string; confirmation?: { status: string; summary: string } }[] }[];
    const reuse = entry.messages.filter((m) => m.ruleId === "reused-batchnorm");
    expect(reuse.length).toBe(4);
    for (const m of reuse) expect(m.confirmation!.summary).toContain("Keras_Cifar2(rank1=4, rank2=16) (values from --model-args)");
  });

  it("takes strings and lists of strings in --model-args (the keys of a ModuleDict)", { timeout: 300_000 }, async () => {
    const text = [
      "import torch.nn as nn",
      "",
      "class Net(nn.Module):",
      "    def __init__(self, names):",
      "        super().__init__()",
      "        self.stem = nn.Conv2d(3, 8, 3)",
      "        self.heads = nn.ModuleDict({n: nn.Conv2d(8, 8, 3, padding=1) for n in names})",
      "        self.bn = nn.BatchNorm2d(8)",
      "",
      "    def forward(self, x):",
      "        x = self.bn(self.stem(x))",
      '        return self.bn(self.heads["a"](x))',
    ].join("\n");
    const reuse = async (modelArgs?: ModelArgs) => (await lintText(text, "net.py", { confirm: true, modelArgs })).messages.find((m) => m.ruleId === "reused-batchnorm")!;
    // Without the names, the ModuleDict's keys are unknown: said, not guessed.
    expect((await reuse()).confirmation!.summary).toContain('contains `call of self.heads["a"]`, which bnlint cannot follow (line 12)');
    const lines: string[] = [];
    const io = { stdout: (s: string) => lines.push(s), stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
    const file = `${process.env.TMPDIR ?? "/tmp"}/bnlint-heads-${process.pid}.py`;
    (await import("node:fs")).writeFileSync(file, text);
    expect(await runCli([file, "--confirm", "--format", "json", "--model-args", `Net=names=("a", 'b')`], io)).toBe(1);
    const [entry] = JSON.parse(lines.join("")) as { messages: { ruleId: string; confirmation?: { status: string; summary: string } }[] }[];
    const confirmation = entry.messages.find((m) => m.ruleId === "reused-batchnorm")!.confirmation!;
    expect(confirmation.summary).toContain('Net(names=("a", "b")) (values from --model-args)');
    expect(confirmation.status).not.toBe("not-run");
  });

  it("takes lists of numbers in --model-args, and refuses a malformed one with exit code 2", { timeout: 300_000 }, async () => {
    // ASPP's atrous_rates is a tuple; with a reuse added, the confirmation runs the model built from it.
    const aspp = readText(new URL("../fixtures/clean/aspp_own_bn.py", import.meta.url).pathname).replace(
      "return self.project(torch.cat(res, dim=1))",
      "return self.project[1](self.project(torch.cat(res, dim=1)))",
    );
    const file = `${process.env.TMPDIR ?? "/tmp"}/bnlint-aspp-${process.pid}.py`;
    (await import("node:fs")).writeFileSync(file, aspp);
    const lines: string[] = [];
    const io = { stdout: (s: string) => lines.push(s), stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
    const code = await runCli([file, "--confirm", "--format", "json", "--model-args", "ASPP=in_channels=16,out_channels=8,atrous_rates=(2,4)"], io);
    expect(code).toBe(1);
    const [entry] = JSON.parse(lines.join("")) as { messages: { ruleId: string; confirmation?: { status: string; summary: string } }[] }[];
    const reuse = entry.messages.find((m) => m.ruleId === "reused-batchnorm")!;
    expect(reuse.confirmation!.summary).toContain("ASPP(in_channels=16, out_channels=8, atrous_rates=(2, 4)) (values from --model-args)");
    expect(reuse.confirmation!.status).not.toBe("not-run");
    const errors: string[] = [];
    const bad = await runCli([file, "--confirm", "--model-args", "ASPP=atrous_rates=(2,4"], { ...io, stderr: (s: string) => errors.push(s) });
    expect(bad).toBe(2);
    expect(errors.join("")).toContain("atrous_rates=(2,4");
    const later: string[] = [];
    expect(await runCli([file, "--confirm", "--model-args", "ASPP=in_channels=16,x=@,out_channels=8"], { ...io, stderr: (s: string) => later.push(s) })).toBe(2);
    expect(later.join("")).toContain('at "x=@"');
  });

  it("does not run activations with arguments its kernels do not compute (Softplus(beta=2), F.elu(x, alpha=0.5))", async () => {
    const model = (act: string, call: string) =>
      [
        "import torch.nn as nn",
        "import torch.nn.functional as F",
        "",
        "class Net(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        "        self.conv = nn.Conv2d(3, 8, 3)",
        "        self.bn = nn.BatchNorm2d(8)",
        `        self.act = ${act}`,
        "",
        "    def forward(self, x):",
        "        x = self.act(self.bn(self.conv(x)))",
        `        return self.bn(${call})`,
      ].join("\n");
    const summary = async (text: string) => (await lintText(text, "net.py", { confirm: true })).messages.find((m) => m.ruleId === "reused-batchnorm")!.confirmation!;
    expect(await summary(model("nn.Softplus(beta=2)", "x"))).toMatchObject({ status: "not-run", summary: expect.stringContaining("`Softplus(beta=…)` other than 1 (line 12)") });
    expect(await summary(model("nn.Softplus()", "F.elu(x, alpha=0.5)"))).toMatchObject({ status: "not-run", summary: expect.stringContaining("`torch.nn.functional.elu` with arguments other than the input (line 13)") });
    expect((await summary(model("nn.Softplus(beta=1)", "F.elu(x)"))).status).not.toBe("not-run");
    // Padding modes: constant and reflect run; replicate is said, not approximated.
    expect(await summary(model("nn.ReLU()", "F.pad(x, (1, 1, 1, 1), mode='replicate')"))).toMatchObject({ status: "not-run", summary: expect.stringContaining('`F.pad` in mode "replicate" (line 13)') });
    expect((await summary(model("nn.ReflectionPad2d(1)", "x[:, :, 1:-1, 1:-1]"))).status).not.toBe("not-run");
    // Indexing out of range is PyTorch's error, with its text.
    expect(await summary(model("nn.ReLU()", "x[:, 9:10] + x[:, :, 40]"))).toMatchObject({ summary: expect.stringContaining("IndexError: index 40 is out of bounds for dimension 2 with size 30") });
  });

  it("reproduces PyTorch's error for a BatchNorm whose channel count does not match", async () => {
    const text = [
      "import torch.nn as nn",
      "",
      "class Net(nn.Module):",
      "    def __init__(self):",
      "        super().__init__()",
      "        self.conv = nn.Conv2d(3, 32, 3)",
      "        self.bn = nn.BatchNorm2d(16)",
      "",
      "    def forward(self, x):",
      "        return self.bn(self.conv(x))",
    ].join("\n");
    const tree = await parsePython(text);
    const index = indexPython("net.py", text, tree);
    const at = text.indexOf("self.bn(self.conv(x))");
    const d: Diagnostic = { ruleId: "batchnorm-shape-mismatch", severity: 2, message: "", range: rangeFromIndices(text, at, at + 21), related: [], model: "Net", modulePath: "bn" };
    await confirmDiagnostics(index, [d]);
    tree.delete();
    expect(d.confirmation!.status).toBe("confirmed");
    expect(d.confirmation!.summary).toContain('"RuntimeError: running_mean should contain 32 elements not 16"');
    expect(d.confirmation!.summary).toContain("[2, 32, 30, 30]");
  });
});

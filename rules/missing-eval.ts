import { defineRule, type EvalContext, type RelatedInfo, type TrainModeEvalCall } from "../src/rule.js";

function whereText(c: EvalContext): string {
  switch (c.kind) {
    case "function":
      return `the evaluation function \`${c.label}\``;
    case "no_grad":
      return `the \`${c.label}\` block at line ${c.range.start.line} (after ${c.after === "loading" ? "loading weights" : "training"})`;
    case "after_load":
      return `inference code after the weights are loaded at line ${c.range.start.line}`;
    case "training_flag":
      return `code that \`${c.label}\` at line ${c.range.start.line} marks as evaluation`;
    case "held_out_call":
      return `code that runs it on held-out data (\`${c.label}\`) after ${c.after === "loading" ? "loading weights" : "training"}`;
    case "trace":
      return `\`${c.label}\``;
    case "eval_loop":
      return `the loop over \`${c.label}\`${c.phase ? ` in its \`${c.phase}\` pass` : ""} at line ${c.range.start.line} (after ${c.after === "loading" ? "loading weights" : "training"})`;
  }
}

function whyText(f: TrainModeEvalCall): string {
  const created = f.origins.filter((o) => o.kind === "created");
  const trained = f.origins.filter((o) => o.kind === "train" || o.kind === "call");
  const flags = f.origins.filter((o) => o.kind === "flag");
  const parts: string[] = [];
  if (created.length > 0) parts.push(`it starts in training mode when created (line ${created.map((o) => o.range.start.line).join(", ")})`);
  if (trained.length > 0) parts.push(`\`.train()\` at line ${trained.map((o) => o.range.start.line).join(", ")} puts it in training mode`);
  if (flags.length > 0) parts.push(`\`${flags[0].text}\` (line ${flags.map((o) => o.range.start.line).join(", ")}) sets the flag of the top module only, its BatchNorm layers stay in training mode`);
  const via =
    f.callers.length === 0
      ? ""
      : f.handedOver
        ? ` (it is the module-level \`${f.variable}\` as the module's code leaves it: this file never calls \`${f.handedOver}\`, it hands it over at line ${f.callers[0].start.line} to code that runs it later)`
        : f.viaGlobal
          ? ` (it is the module-level \`${f.variable}\`, in the state it has at the call at line ${f.callers[0].start.line})`
          : ` (it is passed in by the call at line ${f.callers[0].start.line})`;
  return `${parts.join(" and ") || "it is in training mode"}, and no \`.eval()\` reaches this call${via}`;
}

function originNote(o: TrainModeEvalCall["origins"][number]): string {
  if (o.kind === "created") return `\`${o.text}\` is created in training mode here`;
  if (o.kind === "flag") return `\`${o.text}\` changes only this module's own flag: its BatchNorm layers stay in training mode (\`.eval()\` sets every submodule)`;
  return `\`${o.text}\` switches to training mode here`;
}

function related(f: TrainModeEvalCall): RelatedInfo[] {
  return [
    ...f.origins.map((o) => ({ message: originNote(o), at: o.range })),
    ...f.callers.map((at, i) => ({ message: f.handedOver && i === 0 ? "the evaluation function is handed over here, to run after the module's code" : f.viaGlobal ? "the evaluation code runs from here" : "the model is passed in here", at })),
    // A function names itself; the flag assignment is listed with the origins already.
    ...(f.context.kind === "function" || f.context.kind === "training_flag" || f.context.kind === "trace" || f.context.kind === "held_out_call" ? [] : [{ message: `evaluation code starts here (\`${f.context.label}\`)`, at: f.context.range }]),
  ];
}

export default defineRule({
  meta: {
    id: "missing-eval",
    defaultSeverity: "warning",
    description: "A model with BatchNorm is called in evaluation or inference code without `model.eval()`.",
    frameworks: ["torch"],
    messages: {
      missingEval:
        "`{{variable}}` ({{model}}, which contains BatchNorm) is called in {{where}} while still in training mode: {{why}}. BatchNorm then normalizes each batch with that batch's own statistics instead of its running statistics (only `.eval()` switches this; `torch.no_grad()` only turns off gradients), so each prediction depends on the other samples of its batch and the running statistics keep moving. Call `{{variable}}.eval()` (or `{{variable}}.train(False)`) before evaluating, and `{{variable}}.train()` before training again.",
      tracedInTraining:
        "`{{variable}}` ({{model}}, which contains BatchNorm) is traced by `{{tracer}}` while still in training mode: {{why}}. Tracing records each BatchNorm call as it runs now, normalizing with the batch's own statistics, and the traced module keeps doing so for good: its `.eval()` no longer switches BatchNorm to the running statistics, so every prediction of the exported model depends on the other samples of its batch. Call `{{variable}}.eval()` before tracing.",
      exportedInTraining:
        "`{{variable}}` ({{model}}, which contains BatchNorm) is exported by `{{tracer}}` while still in training mode: {{why}}. `torch.onnx.export` exports the mode the model is in (by default since PyTorch 2.9, whose `dynamo=True` exporter no longer switches to eval mode, and always with `training=TrainingMode.PRESERVE`; the `training=` option is deprecated since 2.6), so the exported graph normalizes every batch with that batch's own statistics instead of the running statistics, and its predictions depend on the other samples of the batch. Call `{{variable}}.eval()` before exporting.",
      trainInEval:
        "`{{call}}` switches {{model}} (which contains BatchNorm) to training mode inside {{where}}, and `{{variable}}` is then called at line {{line}} in that mode: BatchNorm normalizes with the statistics of each batch instead of its running statistics, so results depend on the batch. Remove it, or move it after the evaluation (to resume training). If batch statistics at test time are the point (test-time adaptation such as AdaBN), say so with `# bnlint: disable=missing-eval -- test-time BatchNorm adaptation`, or name the function for it (`adapt_and_test`).",
    },
    docs: {
      whatItDoes:
        "Follows module-level code and the functions of the file: which names hold a model that contains BatchNorm with running statistics (a model class of the file, with BatchNorm layers of its own or holding a torchvision model as transfer-learning wrappers do (`self.backbone = models.resnet50(weights=...)` in `__init__`; not a class that sets its parts' modes itself, such as a `train()` override keeping a frozen backbone in eval mode), a torchvision builder such as `torchvision.models.resnet18()` (also imported from its submodule, `from torchvision.models.inception import inception_v3`, loaded from the hub, `torch.hub.load(\"pytorch/vision:v0.10.0\", \"resnet18\")`, or by name, `torchvision.models.get_model(\"resnet50\")`; also timm's `timm.create_model(\"resnet50\", pretrained=True)` for architectures built with BatchNorm (ResNets, EfficientNets, MobileNets, RegNets, DenseNets… not ViT or ConvNeXt); not with another `norm_layer`, such as `FrozenBatchNorm2d`, nor `quantize=True`), an `nn.Sequential(...)` written in the script that lists a BatchNorm, or a feature extractor cut from such a model (`nn.Sequential(*list(model.children())[:-1])`, followed as the model itself since it shares its layers and mode); a BatchNorm with `track_running_stats=False` normalizes with batch statistics in both modes and does not count), where `.eval()`, `.train(False)` and `.train()` are called (an assignment `model.training = False` is not `.eval()`: it sets the top module's flag and leaves the BatchNorm layers in training mode; the model's calls after it, until `model.training = True`, are evaluation code), and calls between functions of the same file (`.eval()` or `.train()` on a part of a model, `model.backbone.eval()`, leaves the model's mode unknown; a function the file never calls but hands to other code, as an argument — `gr.Interface(fn=predict)`, `Thread(target=run)` — or through a registering decorator — `@app.route(\"/\")`, `@router.post(...)` — runs after the module's code, with the module-level models as that code leaves them). It reports a call of such a model in evaluation code — a function named like `test`, `evaluate`, `validate`, `predict`, `infer` or `extract` (`extract_features` for retrieval) (but not one whose name says it trains or adapts BatchNorm on purpose: `train_and_validate`, `test_adabn`, `evaluate_tta`), a `torch.no_grad()`/`torch.inference_mode()` block after training, a loop over held-out data by its name (`for x, y in test_loader`, `val_dl`, `dataloader_test`, `loaders[\"val\"]`, and `dataloaders[phase]` in the `\"val\"` pass of a `for phase in [\"train\", \"val\"]` loop, whose `if phase == \"train\":` arms are decided per pass) after training or loading that does not itself train, a call on held-out data by its name (`net(val_data)`, `model(X_test)`) after training or loading — also a validation check inside the training loop — in a block that does not itself train, or code after `load_state_dict` (or a pretrained builder) in a file that does not train — when no `.eval()` reaches it on any path bnlint sees, and a `.train()` inside evaluation code that reaches such a call. A forward pass whose output nobody reads (a bare `model(x)` statement, run for its effect on the running statistics as AdaBN and BatchNorm recalibration do), or whose output only has its size read (`print(model(x).shape)`, a shape smoke test), is not evaluation. It also reports `torch.jit.trace(model, …)`, `torch.export.export(model, …)` and `torch.onnx.export(model, …)` of a trained or loaded model in training mode: they record BatchNorm with batch statistics for good. (`torch.onnx.export` exports the mode the model is in since PyTorch 2.9, whose default exporter is `dynamo=True`; with `dynamo=False` and no `training=`, or an explicit `training=TrainingMode.EVAL` or `TRAINING`, it is not reported.)",
      whyIsThisBad:
        "In training mode BatchNorm normalizes every batch with that batch's own mean and variance and updates its running statistics; only `model.eval()` (or `model.train(False)`) makes it use the running statistics learned in training. `torch.no_grad()` does not do that: it only stops gradient tracking. A model evaluated in training mode gives predictions that depend on which other samples share the batch, reports wrong validation accuracy, and silently changes its running statistics on the test set.",
      example: {
        bad: [
          "import torch",
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.fc1 = nn.Linear(20, 64)",
          "        self.bn = nn.BatchNorm1d(64)",
          "        self.fc2 = nn.Linear(64, 2)",
          "",
          "    def forward(self, x):",
          "        return self.fc2(torch.relu(self.bn(self.fc1(x))))",
          "",
          "def evaluate(model, loader):",
          "    correct = 0",
          "    with torch.no_grad():",
          "        for x, y in loader:",
          "            correct += (model(x).argmax(1) == y).sum().item()",
          "    return correct",
          "",
          "def main(train_loader, test_loader):",
          "    model = Net()",
          "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)",
          "    for x, y in train_loader:",
          "        optimizer.zero_grad()",
          "        nn.functional.cross_entropy(model(x), y).backward()",
          "        optimizer.step()",
          "    return evaluate(model, test_loader)",
        ].join("\n"),
        good: [
          "import torch",
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.fc1 = nn.Linear(20, 64)",
          "        self.bn = nn.BatchNorm1d(64)",
          "        self.fc2 = nn.Linear(64, 2)",
          "",
          "    def forward(self, x):",
          "        return self.fc2(torch.relu(self.bn(self.fc1(x))))",
          "",
          "def evaluate(model, loader):",
          "    model.eval()",
          "    correct = 0",
          "    with torch.no_grad():",
          "        for x, y in loader:",
          "            correct += (model(x).argmax(1) == y).sum().item()",
          "    return correct",
          "",
          "def main(train_loader, test_loader):",
          "    model = Net()",
          "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)",
          "    model.train()",
          "    for x, y in train_loader:",
          "        optimizer.zero_grad()",
          "        nn.functional.cross_entropy(model(x), y).backward()",
          "        optimizer.step()",
          "    return evaluate(model, test_loader)",
        ].join("\n"),
      },
      fix: "Call `model.eval()` (or `model.train(False)`) before the evaluation code, and `model.train()` before training resumes. No automatic fix: where training resumes is the author's call.",
      knownLimitations:
        "Only names are followed (not `self.model` in a trainer class), only models whose BatchNorm bnlint can see (a class of the same file, or a known torchvision builder), and only calls between functions of the same file. Silent when the model is handed to code bnlint cannot see before the call (a trainer, `model.apply(fn)`, `model.modules()`, a method of the model's own class), when a function's model parameter comes from no call in this file, when the mode depends on a value (`model.train(flag)`), and when any path bnlint sees switches to eval mode. An evaluation function that builds its own model and neither trains it nor loads weights into it is a shape smoke test (the `def test(): net = Net(); print(net(torch.randn(...)).size())` at the foot of many model files): there are no learned statistics to switch to, so it is not reported. A load under `if pretrained:` on a parameter whose default is off does not count as loading (the builder's default call is a fresh model), so `get_net(pretrained=True)` is not known to load either. pytest tests (`test_*` functions with `assert`, or in `test_*.py` files) are not evaluation code, nor is a `no_grad` block inside the loop that trains (a GAN's samples, a teacher's targets).",
    },
  },
  check(context) {
    for (const f of context.analysis.scripts().trainModeEvalCalls) {
      const where = whereText(f.context);
      if (f.trainInEval.length > 0) {
        for (const at of f.trainInEval) {
          context.report({
            messageId: "trainInEval",
            data: { call: context.text.slice(at.startIndex, at.endIndex), model: f.model, where, variable: f.variable, line: f.call.start.line },
            at,
            related: [{ message: `\`${f.variable}\` is called here in training mode`, at: f.call }],
            model: f.model,
          });
        }
        continue;
      }
      if (f.context.kind === "trace") {
        const messageId = f.context.label === "torch.onnx.export" ? "exportedInTraining" : "tracedInTraining";
        context.report({ messageId, data: { variable: f.variable, model: f.model, tracer: f.context.label, why: whyText(f) }, at: f.call, related: related(f), model: f.model });
        continue;
      }
      context.report({
        messageId: "missingEval",
        data: { variable: f.variable, model: f.model, where, why: whyText(f) },
        at: f.call,
        related: related(f),
        model: f.model,
      });
    }
  },
});

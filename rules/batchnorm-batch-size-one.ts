import { defineRule, queries, type SmallBatchLoop } from "../src/rule.js";

const { constructorLabel } = queries;

function bnName(loop: SmallBatchLoop): string {
  const bn = loop.batchNorm;
  if ("path" in bn) return `${loop.modelName}.${bn.path}`; // a library model's BatchNorm, by its path
  return bn.paths[0] ? queries.instancePythonPath(bn) : "a BatchNorm1d";
}

function bnConstructor(loop: SmallBatchLoop): string {
  return "ctor" in loop.batchNorm ? loop.batchNorm.ctor : constructorLabel(loop.batchNorm);
}

export default defineRule({
  meta: {
    id: "batchnorm-batch-size-one",
    defaultSeverity: "warning",
    description: "A training loop can feed a batch of one sample to a BatchNorm that sees one value per channel (BatchNorm1d on features, or after global pooling), which raises in training mode.",
    frameworks: ["torch"],
    messages: {
      batchSizeOne:
        "`{{loader}}` yields batches of one sample (batch size {{size}}) to the training loop at line {{loopLine}}, where `{{model}}` ({{cls}}) runs `{{bn}}` ({{bnCtor}}) on {{input}}. In training mode BatchNorm cannot estimate a variance from one value per channel: PyTorch raises `ValueError: Expected more than 1 value per channel when training`. Use a batch size of 2 or more.",
      lastBatchOne:
        "`{{loader}}` splits {{samples}} samples into batches of {{size}} without `drop_last=True`, so the last batch of each epoch holds 1 sample; in the training loop at line {{loopLine}}, `{{model}}` ({{cls}}) runs `{{bn}}` ({{bnCtor}}) on {{input}} and PyTorch raises `ValueError: Expected more than 1 value per channel when training` at the end of the first epoch. Pass `drop_last=True`, or a batch size that leaves no single sample.",
    },
    fixable: "unsafe",
    docs: {
      whatItDoes:
        "Finds a training loop (a `for` over a DataLoader whose body calls `.backward()` or `.step()`) that calls a model of this file whose BatchNorm sees one value per channel per sample — a BatchNorm1d on (N, C) features (after a Linear, a flatten or a view), or a BatchNorm whose input has spatial size 1 by the shape analysis (after `AdaptiveAvgPool2d(1)`, as in DeepLab's image-pooling branch, also in torchvision's own `deeplabv3_*()` models, whose `classifier[0].convs[4][2]` is that BatchNorm) — when the DataLoader's `batch_size` is 1 (the default), or when the dataset's size is written in the file (`TensorDataset(torch.randn(1001, 8), ...)`) and leaves a last batch of one without `drop_last=True`.",
      whyIsThisBad:
        "In training mode BatchNorm normalizes each channel with the mean and variance of the batch; with one sample and one value per channel there is no variance to compute, and PyTorch stops with `ValueError: Expected more than 1 value per channel when training`. When only the last batch of an epoch is that small, the crash comes after a full epoch of training, often hours in.",
      example: {
        bad: [
          "import torch",
          "import torch.nn as nn",
          "from torch.utils.data import DataLoader, TensorDataset",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.fc = nn.Linear(8, 32)",
          "        self.bn = nn.BatchNorm1d(32)",
          "        self.out = nn.Linear(32, 1)",
          "",
          "    def forward(self, x):",
          "        return self.out(torch.relu(self.bn(self.fc(x))))",
          "",
          "data = TensorDataset(torch.randn(1001, 8), torch.randn(1001, 1))",
          "loader = DataLoader(data, batch_size=100, shuffle=True)",
          "model = Net()",
          "opt = torch.optim.Adam(model.parameters())",
          "for x, y in loader:",
          "    opt.zero_grad()",
          "    nn.functional.mse_loss(model(x), y).backward()",
          "    opt.step()",
        ].join("\n"),
        good: [
          "import torch",
          "import torch.nn as nn",
          "from torch.utils.data import DataLoader, TensorDataset",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.fc = nn.Linear(8, 32)",
          "        self.bn = nn.BatchNorm1d(32)",
          "        self.out = nn.Linear(32, 1)",
          "",
          "    def forward(self, x):",
          "        return self.out(torch.relu(self.bn(self.fc(x))))",
          "",
          "data = TensorDataset(torch.randn(1001, 8), torch.randn(1001, 1))",
          "loader = DataLoader(data, batch_size=100, shuffle=True, drop_last=True)",
          "model = Net()",
          "opt = torch.optim.Adam(model.parameters())",
          "for x, y in loader:",
          "    opt.zero_grad()",
          "    nn.functional.mse_loss(model(x), y).backward()",
          "    opt.step()",
        ].join("\n"),
      },
      fix: "Use a batch size of 2 or more, or pass `drop_last=True` when only the last batch is too small. The automatic fix (unsafe: each epoch skips the last sample) adds `drop_last=True` for the last-batch case.",
      knownLimitations:
        "Only names assigned once in a function or at module level are followed, so a loader or model passed into a training function as a parameter is not seen; only dataset sizes written as numbers in `TensorDataset(torch.randn(N, ...))` count; BatchNorm1d on (N, C, L) sequences (after a Conv1d) is left alone, since it has L values per channel; any `.eval()` or `.train(False)` on the model in the same function silences the rule, and so does a BatchNorm under an `if` on sizes (or on a condition bnlint cannot read: `if x.shape[0] > 1: x = self.bn(x)` guards it) a model input reshaped in the loop (`model(x.view(-1, 768))` when each item is already a batch), and a BatchNorm after an operation in `forward` that removes, merges or moves the batch dimension (`x.squeeze(0)` on an attention-MIL bag given as a batch of one, `x[0]`, `x.flatten(0, 1)`, `x.reshape(b * t, c)`, `x.transpose(0, 1)`), whose rows are then not the loader's samples. A `batch_size` given by a name assigned once (`BATCH_SIZE = 1`) counts.",
    },
  },
  check(context) {
    for (const loop of context.analysis.smallBatchLoops()) {
      const data = {
        loader: loop.loaderName,
        size: loop.batchSize,
        samples: loop.datasetSize ?? 0,
        loopLine: loop.loop.start.line,
        model: loop.modelName,
        cls: loop.modelClass,
        bn: bnName(loop),
        bnCtor: bnConstructor(loop),
        input: loop.input,
      };
      const bn = loop.batchNorm;
      const declared = "declStatement" in bn ? bn.declStatement : undefined;
      const related = [
        { message: "the training loop", at: loop.loop },
        ...(declared ? [{ message: `\`${bnName(loop)}\` is declared here`, at: declared }] : []),
      ];
      // The model and BatchNorm of the file, for --confirm and JSON consumers (a library model has no class here).
      const where = "paths" in bn ? { model: loop.modelClass, ...(bn.paths[0] ? { modulePath: bn.paths[0] } : {}) } : {};
      if (loop.kind === "batch-size-one") {
        context.report({ messageId: "batchSizeOne", data, at: loop.batchSizeArg ?? loop.loaderCall, related, ...where });
        continue;
      }
      const close = context.text.lastIndexOf(")", loop.loaderCall.endIndex - 1);
      const before = context.text.slice(loop.loaderCall.startIndex, close).trimEnd();
      const at = loop.loaderCall.startIndex + before.length;
      context.report({
        messageId: "lastBatchOne",
        data,
        at: loop.loaderCall,
        related,
        ...where,
        fix: { title: "Pass drop_last=True", safety: "unsafe", edits: [{ range: [at, at], text: before.endsWith(",") ? " drop_last=True" : ", drop_last=True" }] },
      });
    }
  },
});

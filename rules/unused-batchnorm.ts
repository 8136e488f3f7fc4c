import { defineRule, queries } from "../src/rule.js";

const { batchNormRuns, constructorLabel, isBatchNorm } = queries;

export default defineRule({
  meta: {
    id: "unused-batchnorm",
    defaultSeverity: "warning",
    description: "A BatchNorm module is declared in `__init__` but never called.",
    frameworks: ["torch"],
    messages: {
      unused:
        "`self.{{name}}` ({{ctor}}) is declared in `{{model}}.__init__` but never called in `forward` or anywhere else in this file. Its parameters and running statistics sit in the state dict untrained, and it usually means a call was meant to go here and another BatchNorm is being reused instead. Call it where it belongs, or remove it.",
    },
    docs: {
      whatItDoes: "Finds BatchNorm modules assigned to `self` in `__init__` that the model's forward pass never calls and that nothing else in the file reads.",
      whyIsThisBad:
        "An unused BatchNorm is dead weight in every checkpoint, and it is often the sign of the reuse bug: the author declared one BatchNorm per layer but called another one twice (in the forum model, `bn_1` and `bn_3` were never used while `bn_2` ran three times).",
      example: {
        bad: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 16, 3)",
          "        self.bn1 = nn.BatchNorm2d(16)",
          "        self.bn2 = nn.BatchNorm2d(16)",
          "",
          "    def forward(self, x):",
          "        return self.bn1(self.conv(x))",
        ].join("\n"),
        good: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 16, 3)",
          "        self.bn1 = nn.BatchNorm2d(16)",
          "",
          "    def forward(self, x):",
          "        return self.bn1(self.conv(x))",
        ].join("\n"),
      },
      fix: "Call the BatchNorm where it was meant to run (often instead of a reused one), or delete the declaration. No automatic fix: which of the two is right is the author's call.",
      knownLimitations:
        "Silent when the class reaches modules by a name bnlint cannot compute (`getattr(self, f\"bn{i}\")` over a loop of unknown length, `self.modules()`), when the attribute name is read anywhere else in the file, when the module is handed to code outside the file, when the class has no `forward` in the file, and when the analysis of the class was incomplete. Only direct attributes (`self.bn = ...`) are checked, not children of containers.",
    },
  },
  check(context) {
    for (const graph of context.analysis.graphs) {
      if (graph.dynamicModuleAccess || graph.incomplete) continue;
      const called = batchNormRuns(graph);
      const cls = graph.modelClass;
      for (const inst of graph.instances) {
        if (!isBatchNorm(inst) || inst.escaped || called.has(inst)) continue;
        const decl = inst.declStatement;
        if (!decl || decl.startIndex < cls.range.startIndex || decl.endIndex > cls.range.endIndex) continue;
        const names = inst.paths.filter((p) => !p.includes("."));
        if (names.length === 0 || names.length !== inst.paths.length) continue;
        // Stored under the name once; any other read (another method, a subclass, getattr) counts as a use.
        if (names.some((n) => context.analysis.attributeReads(n) > 0)) continue;
        context.report({
          messageId: "unused",
          data: { name: names[0], ctor: constructorLabel(inst), model: cls.name },
          at: decl,
          model: cls.name,
          modulePath: names[0],
        });
      }
    }
  },
});

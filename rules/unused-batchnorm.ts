import { defineRule, queries, type ModelClass, type ModelIndex } from "../src/rule.js";

const { batchNormRuns, constructorLabel, isBatchNorm } = queries;

/** The class, its in-file bases and its in-file subclasses: where `self` may be an instance of it. */
function relatedClasses(index: ModelIndex, cls: ModelClass): Set<ModelClass> {
  const related = new Set<ModelClass>();
  const up = (c: ModelClass): void => {
    if (related.has(c)) return;
    related.add(c);
    c.bases.forEach(up);
  };
  up(cls);
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of index.classes) {
      if (!related.has(c) && c.bases.some((b) => b === cls || (related.has(b) && isSubclass(b, cls)))) {
        related.add(c);
        grew = true;
      }
    }
  }
  return related;
}

function isSubclass(c: ModelClass, of: ModelClass): boolean {
  return c === of || c.bases.some((b) => isSubclass(b, of));
}

/**
 * Reads of `self.<name>` in the classes unrelated to `cls` (MCD's `Feature.bn1_fc` next to `Predictor.bn1_fc`):
 * another class's own attribute of the same name, not a use of this one. Comments are not counted.
 */
function unrelatedSelfReads(index: ModelIndex, cls: ModelClass, name: string): number {
  const related = relatedClasses(index, cls);
  const read = new RegExp(`\\bself\\s*\\.\\s*${name}\\b(?!\\s*(?::[^=\\n]*)?=(?!=))`, "g");
  let count = 0;
  for (const other of index.classes) {
    if (related.has(other)) continue;
    const text = other.node.text.replace(/#[^\n]*/g, "");
    count += [...text.matchAll(read)].length;
  }
  return count;
}

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
        "Silent when the class reaches modules by a name bnlint cannot compute (`getattr(self, f\"bn{i}\")` over a loop of unknown length, `self.modules()`), when the attribute name is read anywhere else in the file (a `self.<name>` in a class unrelated to this one by inheritance is that class's own attribute and does not count), when the module is handed to code outside the file, when the class has no `forward` in the file, and when the analysis of the class was incomplete. Only direct attributes (`self.bn = ...`) are checked, not children of containers.",
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
        if (names.some((n) => context.analysis.attributeReads(n) > unrelatedSelfReads(context.index, cls, n))) continue;
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

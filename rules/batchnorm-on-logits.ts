import { constValue, defineRule, knowledge, queries, symAtoms, type ForwardGraph, type GraphNode, type RuleContext } from "../src/rule.js";

const { CLASS_COUNT_NAME, EMBEDDING_SIZE_NAME, GENERIC_SIZE_NAME, HEAD_LAYER_NAME, SCORE_LAYERS } = knowledge;
const { batchNormRuns, constructorLabel, meaningfulProducer, reachesOutputUnchanged } = queries;

/** Whether `producer` computes class scores: its output size is named like a class count, or it is a head layer. */
function classScoreLayer(producer: GraphNode | undefined): { why: string } | undefined {
  const inst = producer?.op === "call_module" ? producer.instance : undefined;
  if (!inst?.qualname) return undefined;
  const spec = SCORE_LAYERS.get(inst.qualname);
  if (!spec) return undefined;
  const outArg = inst.args[spec.index] ?? inst.kwargs.get(spec.keyword);
  if (outArg) {
    const names = outArg.text.match(/[A-Za-z_]\w*/g) ?? [];
    const atoms = outArg.value.k === "num" || outArg.value.k === "unknown" ? (outArg.value.sym ? symAtoms(outArg.value.sym) : []) : [];
    const hit = [...names, ...atoms].find((n) => CLASS_COUNT_NAME.test(n));
    if (hit) return { why: `its output size is \`${outArg.text}\`` };
    // A head-like layer name (`fc`) does not make an embedding of `num_features`, or a generic `out_dim`, class scores.
    if ([...names, ...atoms].some((n) => EMBEDDING_SIZE_NAME.test(n) || GENERIC_SIZE_NAME.test(n))) return undefined;
    // A width of 64, 128, …, 4096 is an embedding or a hidden layer (face recognition's Linear(512 * 7 * 7, 512)
    // then BatchNorm1d(512)), not a class count.
    const size = outArg.value.k === "num" ? constValue(outArg.value.sym) : undefined;
    if (size !== undefined && size >= 64 && size <= 4096 && Number.isInteger(Math.log2(size))) return undefined;
  }
  const headSegment = inst.paths.flatMap((p) => p.split(".")).find((seg) => HEAD_LAYER_NAME.test(seg));
  if (headSegment) return { why: `it is the classification head \`${queries.instancePythonPath(inst)}\`` };
  return undefined;
}

export default defineRule({
  meta: {
    id: "batchnorm-on-logits",
    defaultSeverity: "warning",
    description: "A BatchNorm normalizes the class scores that the model returns.",
    frameworks: ["torch"],
    messages: {
      onLogits:
        "`{{callee}}` ({{ctor}}) normalizes the class scores of `{{producer}}` ({{why}}) and its output is what `{{model}}` returns. The logits then depend on the other samples of the batch in training and on running statistics in eval mode, so predictions shift after model.eval(). Remove it (the classifier's bias already sets the scores' offset), or normalize the features before the classifier.",
    },
    docs: {
      whatItDoes:
        "Finds a BatchNorm whose input is the output of the classifier (a Linear or Conv whose output size is a class count such as `num_classes`, or a layer named `fc`, `classifier`, `head`, `logits`) and whose output reaches the model's `return` through shape-only operations (`view`, `flatten`, `squeeze`, `reshape`) and output activations (`softmax`, `log_softmax`, `sigmoid`).",
      whyIsThisBad:
        "Class scores are not features to be normalized: BatchNorm makes each sample's logits depend on the rest of its batch during training and on running averages in eval mode, so the same image can get another prediction after model.eval(). In the forum thread the advice was: \"the last output is class scores and should not be normalized\".",
      example: {
        bad: [
          "import torch",
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self, num_classes=10):",
          "        super().__init__()",
          "        self.features = nn.Linear(784, 256)",
          "        self.fc = nn.Linear(256, num_classes)",
          "        self.bn = nn.BatchNorm1d(num_classes)",
          "",
          "    def forward(self, x):",
          "        return self.bn(self.fc(torch.relu(self.features(x))))",
        ].join("\n"),
        good: [
          "import torch",
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self, num_classes=10):",
          "        super().__init__()",
          "        self.features = nn.Linear(784, 256)",
          "        self.bn = nn.BatchNorm1d(256)",
          "        self.fc = nn.Linear(256, num_classes)",
          "",
          "    def forward(self, x):",
          "        return self.fc(torch.relu(self.bn(self.features(x))))",
        ].join("\n"),
      },
      fix: "Remove the BatchNorm after the classifier, or move it before the classifier so it normalizes features. No automatic fix: it changes the model.",
      knownLimitations:
        "Only top-level models (classes that no other class in the file uses) are checked, and only when the layer before the BatchNorm is recognizably a classifier. A BatchNorm on an embedding (face recognition's BatchNorm1d(512) after a projection to `embedding_size`) is deliberate and stays silent, and so is one after a head-named layer whose output size has a generic name (`self.fc = nn.Linear(in_dim, out_dim)` in a reusable Linear + BatchNorm block): only a class-count name (`num_classes`, `classes`, `n_cls`) or a literal size makes `fc` a classifier then, and not a literal power of two from 64 to 4096 (`nn.Linear(512 * 7 * 7, 512)` before InsightFace's BatchNorm1d(512) is an embedding). Some binary and adder networks put BatchNorm on the logits on purpose: disable the rule on that line.",
    },
  },
  check(context) {
    for (const graph of context.analysis.graphs) {
      if (!context.analysis.topLevelModels.has(graph.modelClass)) continue;
      checkGraph(context, graph);
    }
  },
});

function checkGraph(context: RuleContext<"onLogits">, graph: ForwardGraph): void {
  for (const [inst, runs] of batchNormRuns(graph)) {
    for (const run of runs) {
      if (!reachesOutputUnchanged(graph, run)) continue;
      const producer = meaningfulProducer(graph, run);
      const score = classScoreLayer(producer);
      if (!score || !producer) continue;
      const callee = run.calleeRange ? context.text.slice(run.calleeRange.startIndex, run.calleeRange.endIndex) : queries.instancePythonPath(inst);
      context.report({
        messageId: "onLogits",
        data: { callee, ctor: constructorLabel(inst), producer: queries.nodePythonPath(producer), why: score.why, model: graph.modelClass.name },
        at: run.range,
        related: [
          { message: `class scores come from \`${queries.nodePythonPath(producer)}\``, at: producer.range },
          ...(inst.declStatement ? [{ message: `\`${callee}\` is declared here`, at: inst.declStatement }] : []),
        ],
        model: graph.modelClass.name,
        modulePath: inst.paths[0],
      });
    }
  }
}

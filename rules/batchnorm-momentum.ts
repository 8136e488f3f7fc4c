import { constValue, defineRule, knowledge, qualifiedNameOf, queries, rangeOf, type ModuleInstance, type RuleContext, type SourceRange, type SyntaxNode } from "../src/rule.js";

const { isBatchNormType, shortName } = knowledge;
const { constructorLabel } = queries;

/** Keras' BatchNormalization, however it is imported (`tf.keras.layers`, `keras.layers`, `from keras import layers`). */
const KERAS_BATCHNORM = /^(tensorflow\.)?keras\.layers\.(BatchNormalization|experimental\.SyncBatchNormalization)$/;

/** Where `momentum` may also be passed by position: PyTorch `(num_features, eps, momentum)`, Keras `(axis, momentum)`. */
const POSITION = { torch: 2, keras: 1 } as const;

type Convention = keyof typeof POSITION;

interface MomentumSite {
  convention: Convention;
  value: number;
  at: SourceRange;
  /** The value is written as a number literal at `at` (so a fix can replace it). */
  literal: boolean;
  layer: string;
}

/** The equivalent value in the other convention, without floating-point noise (0.9 → 0.1, not 0.09999999999999998). */
function flipped(value: number): string {
  return String(Number((1 - value).toPrecision(6)));
}

function suspicious(site: MomentumSite): boolean {
  // PyTorch momentum 1.0 (running stats = last batch) is a deliberate choice in meta-learning code.
  // 0.5 means the same in both conventions (1 - 0.5 = 0.5): nothing to report.
  if (site.convention === "torch") return site.value > 0.5 && site.value < 1;
  return site.value < 0.5 && site.value >= 0;
}

function numberLiteral(text: string): number | undefined {
  return /^\d*\.?\d+(e-?\d+)?$/i.test(text) ? Number(text) : undefined;
}

/** Constructor calls written in the file: `nn.BatchNorm2d(64, momentum=0.9)`, `layers.BatchNormalization(momentum=0.1)`. */
/**
 * Calls that may set a BatchNorm's momentum: those around each `BatchNorm…` name or `momentum` word in the
 * text (aliases such as `BN(…)` in models are found through the graphs). Walking every call of a large file
 * would cost more than the rest of the lint.
 */
function candidateCalls(context: RuleContext): SyntaxNode[] {
  const calls = new Map<number, SyntaxNode>();
  // A constructor call (`BatchNorm2d(`, `BatchNormalization(`) or a `momentum=` keyword: mentions in docstrings
  // and imports are not calls, and skipping them saves walking the tree down to each of them. The index is only
  // built once a candidate is found.
  for (const m of context.text.matchAll(/BatchNorm\w*\s*\(|momentum\s*=/g)) {
    let node: SyntaxNode | null = context.index.tree.rootNode.descendantForIndex(m.index!);
    for (let up = 0; node && up < 6; up++, node = node.parent) {
      if (node.type === "call") {
        calls.set(node.startIndex, node);
        break;
      }
    }
  }
  return [...calls.values()].sort((a, b) => a.startIndex - b.startIndex);
}

function literalSites(context: RuleContext): MomentumSite[] {
  const sites: MomentumSite[] = [];
  for (const call of candidateCalls(context)) {
    const { imports } = context.index;
    const fn = call?.childForFieldName("function");
    if (!call || !fn) continue;
    const q = qualifiedNameOf(fn, imports);
    const convention: Convention | undefined = q === undefined ? undefined : isBatchNormType(q) ? "torch" : KERAS_BATCHNORM.test(q) ? "keras" : undefined;
    if (!convention || !q) continue;
    const args = call.childForFieldName("arguments")?.namedChildren.filter((a) => a && a.type !== "comment") ?? [];
    const kw = (name: string) => args.find((a) => a?.type === "keyword_argument" && a.childForFieldName("name")?.text === name)?.childForFieldName("value");
    if (kw("track_running_stats")?.type === "false") continue; // no running statistics: momentum is never used
    const keyword = kw("momentum");
    const positional = args.filter((a) => a?.type !== "keyword_argument");
    const node = keyword ?? (positional.length > POSITION[convention] && !positional.some((a) => a?.type === "list_splat") ? positional[POSITION[convention]] : undefined);
    const value = node ? numberLiteral(node.text) : undefined;
    if (!node || value === undefined) continue;
    sites.push({ convention, value, at: rangeOf(node), literal: true, layer: `${shortName(q)}(${args.map((a) => a!.text).join(", ")})` });
  }
  return sites;
}

/** BatchNorms whose momentum is a value the interpreter resolved (`momentum=bn_momentum` with a default of 0.9). */
function resolvedSites(context: RuleContext): MomentumSite[] {
  const sites: MomentumSite[] = [];
  for (const graph of context.analysis.graphs) {
    for (const inst of graph.instances) {
      if (!isBatchNormType(inst.qualname)) continue;
      const tracking = inst.kwargs.get("track_running_stats")?.value;
      if (tracking?.k === "bool" && !tracking.b) continue;
      const arg = inst.kwargs.get("momentum") ?? inst.args[POSITION.torch];
      const value = arg?.value.k === "num" ? constValue(arg.value.sym) : undefined;
      if (!arg || value === undefined) continue;
      sites.push({ convention: "torch", value, at: arg.range, literal: numberLiteral(arg.text) !== undefined, layer: constructorLabel(inst) });
    }
  }
  return sites;
}

/**
 * The model class and module path of the BatchNorm a site configures, for `--confirm` and JSON consumers: a
 * top-level model's graph when one runs it (that is what users run), else the graph of the class that creates it.
 */
function locate(context: RuleContext, at: SourceRange): { model: string; modulePath: string } | undefined {
  let fallback: { model: string; modulePath: string } | undefined;
  let declared: { model: string; modulePath: string } | undefined;
  const configures = (inst: ModuleInstance | undefined): inst is ModuleInstance =>
    !!inst && isBatchNormType(inst.qualname) && inst.paths.length > 0 && at.startIndex >= inst.ctorRange.startIndex && at.endIndex <= inst.ctorRange.endIndex;
  for (const graph of context.analysis.graphs) {
    for (const n of graph.nodes) {
      const inst = n.instance;
      if (!configures(inst)) continue;
      const found = { model: graph.modelClass.name, modulePath: inst.paths[0] };
      if (context.analysis.topLevelModels.has(graph.modelClass)) return found;
      if (inst.ownerClass === graph.modelClass) fallback ??= found;
    }
    // Created but never called in a forward pass bnlint follows: --confirm then says why it did not run.
    const inst = graph.instances.find((i) => configures(i) && i.ownerClass === graph.modelClass);
    if (inst) declared ??= { model: graph.modelClass.name, modulePath: inst.paths[0] };
  }
  return fallback ?? declared;
}

export default defineRule({
  meta: {
    id: "batchnorm-momentum",
    defaultSeverity: "warning",
    description: "A BatchNorm `momentum` written in the other framework's convention (Keras' 0.9 in PyTorch, or PyTorch's 0.1 in Keras).",
    frameworks: ["torch", "keras"],
    messages: {
      torch:
        "`momentum={{value}}` in {{layer}}: in PyTorch momentum is the weight of the new batch (running = (1 - momentum) × running + momentum × batch), the reverse of Keras and TensorFlow. {{value}} makes the running statistics follow the last few batches, so eval mode normalizes with noisy statistics. If this was Keras' {{value}}, the PyTorch equivalent is `momentum={{equivalent}}`.",
      keras:
        "`momentum={{value}}` in {{layer}}: in Keras momentum is the weight of the old running statistics (running = momentum × running + (1 - momentum) × batch), the reverse of PyTorch. {{value}} makes the running statistics follow the last few batches, so inference normalizes with noisy statistics. If this was PyTorch's {{value}}, the Keras equivalent is `momentum={{equivalent}}`.",
    },
    fixable: "unsafe",
    docs: {
      whatItDoes:
        "Finds a PyTorch BatchNorm (BatchNorm1d/2d/3d, SyncBatchNorm, LazyBatchNorm*) with `momentum` above 0.5 (below 1), and a Keras `BatchNormalization` with `momentum` below 0.5 (0.5 means the same in both conventions), written as a number or resolved from a constructor default.",
      whyIsThisBad:
        "The two frameworks define momentum in reverse. PyTorch updates `running = (1 - momentum) * running + momentum * batch` (default 0.1); Keras updates `running = momentum * running + (1 - momentum) * batch` (default 0.99). Porting Keras' `momentum=0.9` to PyTorch unchanged makes the running mean and variance almost equal to the last batch's, so eval-mode accuracy becomes noisy and batch dependent while training looks normal.",
      example: {
        bad: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 32, 3, bias=False)",
          "        self.bn = nn.BatchNorm2d(32, momentum=0.99)",
          "",
          "    def forward(self, x):",
          "        return self.bn(self.conv(x)).relu()",
        ].join("\n"),
        good: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 32, 3, bias=False)",
          "        self.bn = nn.BatchNorm2d(32, momentum=0.01)",
          "",
          "    def forward(self, x):",
          "        return self.bn(self.conv(x)).relu()",
        ].join("\n"),
      },
      fix: "Use `1 - momentum`: Keras' 0.99 is PyTorch's 0.01, PyTorch's 0.1 is Keras' 0.9. The automatic fix (unsafe: it changes training) replaces a written number with its equivalent.",
      knownLimitations:
        "Only numbers bnlint can read: literals, and constructor defaults of the model class. A BatchNorm with `track_running_stats=False` keeps no running statistics and is not reported. PyTorch's `momentum=1.0` (running statistics = the last batch, used on purpose in meta-learning) and `momentum=None` (cumulative average) are not reported. Keras layers are recognized in Python files by their qualified name only.",
    },
  },
  check(context) {
    const seen = new Set<number>();
    for (const site of [...literalSites(context), ...resolvedSites(context)]) {
      if (seen.has(site.at.startIndex) || !suspicious(site)) continue;
      seen.add(site.at.startIndex);
      const equivalent = flipped(site.value);
      context.report({
        messageId: site.convention,
        data: { value: String(site.value), layer: site.layer, equivalent },
        at: site.at,
        ...(site.convention === "torch" ? locate(context, site.at) : undefined),
        fix: site.literal ? { title: `Use momentum=${equivalent}`, safety: "unsafe", edits: [{ range: [site.at.startIndex, site.at.endIndex], text: equivalent }] } : undefined,
      });
    }
  },
});

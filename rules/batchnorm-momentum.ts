import { constValue, defineRule, knowledge, qualifiedNameOf, queries, rangeOf, type ModuleInstance, type RuleContext, type SourceRange, type SyntaxNode } from "../src/rule.js";

const { isBatchNormType, shortName } = knowledge;
const { constructorLabel } = queries;

/** Keras' BatchNormalization, however it is imported (`tf.keras.layers`, `keras.layers`, `from keras import layers`). */
const KERAS_BATCHNORM = /^(tensorflow\.)?keras\.layers\.(BatchNormalization|experimental\.SyncBatchNormalization)$/;

/** Where `momentum` may also be passed by position: PyTorch `(num_features, eps, momentum)`, Keras `(axis, momentum)`. */
const POSITION = { torch: 2, keras: 1 } as const;
/** PyTorch's eps by position. */
const EPS_POSITION = 1;

type Convention = keyof typeof POSITION;

interface MomentumSite {
  convention: Convention;
  /** `eps`: a PyTorch BatchNorm's eps (its second parameter) set to what looks like a momentum. */
  param: "momentum" | "eps";
  value: number;
  at: SourceRange;
  /** The value is written as a number literal at `at` (so a fix can replace it). */
  literal: boolean;
  layer: string;
  /** Set after construction (`m.momentum = 0.9`), not by a constructor argument. */
  assigned?: boolean;
  /** For an eps site: the text that replaces the argument (`momentum=0.2`), when the call sets no momentum yet. */
  epsFix?: { range: [number, number]; text: string };
}

/**
 * What `BatchNorm2d(c, 0.8)` meant: a momentum, in Keras' convention when 0.5 or more (PyTorch's is then
 * 1 - value), else already in PyTorch's. The fix moves it to `momentum=` when the call has no momentum yet.
 */
function epsContext(node: SyntaxNode, hasMomentum: boolean): Pick<MomentumSite, "epsFix"> {
  const value = numberLiteral(node.text)!;
  if (hasMomentum) return {};
  const momentum = value >= 0.5 ? flipped(value) : String(value);
  const whole = node.parent?.type === "keyword_argument" ? node.parent : node;
  return { epsFix: { range: [whole.startIndex, whole.endIndex], text: `momentum=${momentum}` } };
}

/** The equivalent value in the other convention, without floating-point noise (0.9 → 0.1, not 0.09999999999999998). */
function flipped(value: number): string {
  return String(Number((1 - value).toPrecision(6)));
}

/** PyTorch's eps is added to the variance (default 1e-5); 0.1 to 1 is a momentum in the wrong place (`BatchNorm2d(c, 0.8)`). */
const EPS_LIKE_MOMENTUM = { min: 0.1, max: 1 };

function suspicious(site: MomentumSite): boolean {
  if (site.param === "eps") return site.value >= EPS_LIKE_MOMENTUM.min && site.value < EPS_LIKE_MOMENTUM.max;
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
    let q = qualifiedNameOf(fn, imports);
    let args = call.childForFieldName("arguments")?.namedChildren.filter((a) => a && a.type !== "comment") ?? [];
    let partial = false;
    if (q === "functools.partial" && args[0] && args[0].type !== "keyword_argument") {
      // `functools.partial(nn.BatchNorm2d, momentum=0.9)`, a norm-layer factory: its keywords are the BatchNorm's.
      q = qualifiedNameOf(args[0], imports);
      args = args.filter((a) => a?.type === "keyword_argument");
      partial = true;
    }
    const convention: Convention | undefined = q === undefined ? undefined : isBatchNormType(q) ? "torch" : KERAS_BATCHNORM.test(q) ? "keras" : undefined;
    if (!convention || !q) continue;
    const kw = (name: string) => args.find((a) => a?.type === "keyword_argument" && a.childForFieldName("name")?.text === name)?.childForFieldName("value");
    if (kw("track_running_stats")?.type === "false") continue; // no running statistics: momentum is never used
    const positional = args.filter((a) => a?.type !== "keyword_argument");
    const at = (index: number) => (positional.length > index && !positional.slice(0, index + 1).some((a) => a?.type === "list_splat" || a?.type === "dictionary_splat") ? positional[index] : undefined);
    const layer = partial ? `the factory \`${call.text.replace(/\s+/g, " ")}\`` : `${shortName(q)}(${args.map((a) => a!.text).join(", ")})`;
    const params = convention === "torch" ? (["momentum", "eps"] as const) : (["momentum"] as const);
    for (const param of params) {
      const node = kw(param) ?? at(param === "eps" ? EPS_POSITION : POSITION[convention]);
      const value = node ? numberLiteral(node.text) : undefined;
      if (!node || value === undefined) continue;
      sites.push({ convention, param, value, at: rangeOf(node), literal: true, layer, ...(param === "eps" ? epsContext(node, kw("momentum") !== undefined || at(POSITION.torch) !== undefined) : {}) });
    }
  }
  return sites;
}

/** `isinstance(m, nn.BatchNorm2d)` or `isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))` on `name`. */
function batchNormCheck(cond: SyntaxNode | null, name: string, context: RuleContext): boolean {
  if (cond?.type !== "call" || cond.childForFieldName("function")?.text !== "isinstance") return false;
  const [subject, types] = cond.childForFieldName("arguments")?.namedChildren.filter((a) => a.type !== "comment") ?? [];
  if (subject?.text !== name || !types) return false;
  const candidates = types.type === "tuple" || types.type === "parenthesized_expression" ? types.namedChildren : [types];
  return candidates.some((t) => isBatchNormType(qualifiedNameOf(t, context.index.imports)));
}

/**
 * `m.momentum = 0.9` after construction: on the loop variable of `for m in self.modules()` under
 * `if isinstance(m, nn.BatchNorm2d)`, or on a BatchNorm attribute of the class (`self.bn.momentum = 0.99`).
 */
function assignedSites(context: RuleContext): MomentumSite[] {
  const sites: MomentumSite[] = [];
  for (const m of context.text.matchAll(/\.\s*momentum\s*=\s*[\d.]/g)) {
    let node: SyntaxNode | null = context.index.tree.rootNode.descendantForIndex(m.index!);
    while (node && node.type !== "assignment") node = node.parent;
    const left = node?.childForFieldName("left");
    const right = node?.childForFieldName("right");
    const value = right ? numberLiteral(right.text) : undefined;
    if (!node || left?.type !== "attribute" || left.childForFieldName("attribute")?.text !== "momentum" || !right || value === undefined) continue;
    const object = left.childForFieldName("object")!;
    const layer = object.type === "identifier" ? loopedBatchNorms(node, object.text, context) : batchNormAttribute(node, object.text, context);
    if (layer) sites.push({ convention: "torch", param: "momentum", value, at: rangeOf(right), literal: true, layer, assigned: true });
  }
  return sites;
}

/** `for m in self.modules(): if isinstance(m, nn.BatchNorm2d): m.momentum = …`: how the message names those layers. */
function loopedBatchNorms(assignment: SyntaxNode, name: string, context: RuleContext): string | undefined {
  let guarded = false;
  for (let n = assignment.parent; n; n = n.parent) {
    if (n.type === "if_statement" && batchNormCheck(n.childForFieldName("condition"), name, context)) guarded = true;
    if (n.type === "for_statement" && n.childForFieldName("left")?.text === name) {
      const right = n.childForFieldName("right");
      const iterable = right?.text ?? "";
      // `for layer in [self.bn1, self.bn2]: layer.momentum = 0.99` (a Keras port's post-construction tweak).
      const items = right && (right.type === "list" || right.type === "tuple") ? right.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== "comment") : [];
      if (items.length > 0 && items.every((item) => batchNormAttribute(assignment, item.text, context))) {
        return `${items.map((item) => `\`${item.text}\``).join(", ")}, set after construction in the loop at line ${rangeOf(n).start.line} (\`${assignment.text}\`)`;
      }
      return guarded && /\.modules\(\)$/.test(iterable) ? `the BatchNorm layers of \`${iterable}\` (\`${assignment.text}\`)` : undefined;
    }
  }
  return undefined;
}

/** `self.bn.momentum = 0.99` inside a model class whose graph has a BatchNorm at `self.bn`. */
function batchNormAttribute(assignment: SyntaxNode, object: string, context: RuleContext): string | undefined {
  for (const graph of context.analysis.graphs) {
    const cls = graph.modelClass.range;
    if (assignment.startIndex < cls.startIndex || assignment.endIndex > cls.endIndex) continue;
    const inst = graph.instances.find((i) => isBatchNormType(i.qualname) && i.paths.length > 0 && queries.instancePythonPath(i) === object);
    if (inst) return `${constructorLabel(inst)}, set after construction (\`${assignment.text}\`)`;
  }
  return undefined;
}

/** BatchNorms whose momentum is a value the interpreter resolved (`momentum=bn_momentum` with a default of 0.9). */
function resolvedSites(context: RuleContext): MomentumSite[] {
  const sites: MomentumSite[] = [];
  for (const graph of context.analysis.graphs) {
    for (const inst of graph.instances) {
      if (!isBatchNormType(inst.qualname)) continue;
      const tracking = inst.kwargs.get("track_running_stats")?.value;
      if (tracking?.k === "bool" && !tracking.b) continue;
      const momentum = inst.kwargs.get("momentum") ?? inst.args[POSITION.torch];
      for (const [param, arg] of [["momentum", momentum], ["eps", inst.kwargs.get("eps") ?? inst.args[EPS_POSITION]]] as const) {
        const value = arg?.value.k === "num" ? constValue(arg.value.sym) : undefined;
        if (!arg || value === undefined) continue;
        // A resolved eps is not rewritten: its text may be a name used elsewhere.
        sites.push({ convention: "torch", param, value, at: arg.range, literal: param === "momentum" && numberLiteral(arg.text) !== undefined, layer: constructorLabel(inst) });
      }
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
  const configures = (inst: ModuleInstance | undefined): inst is ModuleInstance => queries.batchNormConfiguredAt(inst, at);
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
    description: "A BatchNorm `momentum` written in the other framework's convention (Keras' 0.9 in PyTorch, or PyTorch's 0.1 in Keras), or passed where PyTorch takes `eps`.",
    frameworks: ["torch", "keras"],
    messages: {
      eps:
        "`{{value}}` is the `eps` of {{layer}}, not its momentum: PyTorch's BatchNorm takes `(num_features, eps, momentum)`, and eps is added to the variance before the square root (default 1e-5). An eps of {{value}} shrinks every normalized output and keeps the default momentum. If {{value}} was meant as a momentum, write `momentum={{equivalent}}` ({{convention}}).",
      torch:
        "`momentum={{value}}` in {{layer}}: in PyTorch momentum is the weight of the new batch (running = (1 - momentum) × running + momentum × batch), the reverse of Keras and TensorFlow. {{value}} makes the running statistics follow the last few batches, so eval mode normalizes with noisy statistics. If this was Keras' {{value}}, the PyTorch equivalent is `momentum={{equivalent}}`.",
      assigned:
        "`momentum = {{value}}` on {{layer}}: in PyTorch momentum is the weight of the new batch (running = (1 - momentum) × running + momentum × batch), the reverse of Keras and TensorFlow. {{value}} makes the running statistics follow the last few batches, so eval mode normalizes with noisy statistics. If this was Keras' {{value}}, the PyTorch equivalent is `{{equivalent}}`.",
      keras:
        "`momentum={{value}}` in {{layer}}: in Keras momentum is the weight of the old running statistics (running = momentum × running + (1 - momentum) × batch), the reverse of PyTorch. {{value}} makes the running statistics follow the last few batches, so inference normalizes with noisy statistics. If this was PyTorch's {{value}}, the Keras equivalent is `momentum={{equivalent}}`.",
    },
    fixable: "unsafe",
    docs: {
      whatItDoes:
        "Finds a PyTorch BatchNorm (BatchNorm1d/2d/3d, SyncBatchNorm, LazyBatchNorm*) with `momentum` above 0.5 (below 1), and a Keras `BatchNormalization` with `momentum` below 0.5 (0.5 means the same in both conventions), written as a number (also in a norm-layer factory, `functools.partial(nn.BatchNorm2d, momentum=0.9)`) or resolved from a constructor default. Also a PyTorch BatchNorm whose `eps` (its second parameter: `BatchNorm2d(128, 0.8)`) is between 0.1 and 1, a momentum put in eps' place. And a momentum set after construction: `self.bn.momentum = 0.99` on a BatchNorm attribute of the model, `m.momentum = 0.9` in a `for m in self.modules():` loop under `isinstance(m, nn.BatchNorm2d)`, or in a loop over a list of the model's BatchNorm attributes (`for layer in [self.bn1, self.bn2]:`).",
      whyIsThisBad:
        "The two frameworks define momentum in reverse (torchvision's own MaxViT shipped `partial(nn.BatchNorm2d, eps=1e-3, momentum=0.99)`, copied from the TensorFlow original, until pytorch/vision#8312). PyTorch updates `running = (1 - momentum) * running + momentum * batch` (default 0.1); Keras updates `running = momentum * running + (1 - momentum) * batch` (default 0.99). Porting Keras' `momentum=0.9` to PyTorch unchanged makes the running mean and variance almost equal to the last batch's, so eval-mode accuracy becomes noisy and batch dependent while training looks normal.",
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
      fix: "Use `1 - momentum`: Keras' 0.99 is PyTorch's 0.01, PyTorch's 0.1 is Keras' 0.9. The automatic fix (unsafe: it changes training) replaces a written number with its equivalent. For a momentum written as eps, the fix turns it into `momentum=` in PyTorch's convention (`BatchNorm2d(128, 0.8)` becomes `BatchNorm2d(128, momentum=0.2)`, and eps goes back to its default), when the call sets no momentum yet.",
      knownLimitations:
        "Only numbers bnlint can read: literals, and constructor defaults of the model class. A BatchNorm with `track_running_stats=False` keeps no running statistics and is not reported. PyTorch's `momentum=1.0` (running statistics = the last batch, used on purpose in meta-learning) and `momentum=None` (cumulative average) are not reported. Keras layers are recognized in Python files by their qualified name only.",
    },
  },
  check(context) {
    const seen = new Set<number>();
    for (const site of [...literalSites(context), ...resolvedSites(context), ...assignedSites(context)]) {
      if (seen.has(site.at.startIndex) || !suspicious(site)) continue;
      seen.add(site.at.startIndex);
      if (site.param === "eps") {
        const keras = site.value >= 0.5;
        const equivalent = keras ? flipped(site.value) : String(site.value);
        context.report({
          messageId: "eps",
          data: { value: String(site.value), layer: site.layer, equivalent, convention: keras ? `PyTorch's equivalent of Keras' momentum ${site.value}` : "PyTorch's convention" },
          at: site.at,
          ...locate(context, site.at),
          fix: site.epsFix ? { title: `Use momentum=${equivalent} (and the default eps)`, safety: "unsafe", edits: [{ range: site.epsFix.range, text: site.epsFix.text }] } : undefined,
        });
        continue;
      }
      const equivalent = flipped(site.value);
      context.report({
        messageId: site.assigned ? "assigned" : site.convention,
        data: { value: String(site.value), layer: site.layer, equivalent },
        at: site.at,
        ...(site.convention === "torch" && !site.assigned ? locate(context, site.at) : undefined),
        fix: site.literal ? { title: `Use momentum=${equivalent}`, safety: "unsafe", edits: [{ range: [site.at.startIndex, site.at.endIndex], text: equivalent }] } : undefined,
      });
    }
  },
});

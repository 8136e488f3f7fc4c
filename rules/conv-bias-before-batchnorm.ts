import { constValue, defineRule, queries, symEquals, type ExtraArg, type FixDescriptor, type ForwardGraph, type GraphNode, type ModuleInstance, type RuleContext, type Sym } from "../src/rule.js";

const { batchNormRuns, constructorLabel } = queries;

/** Layers with a bias: where their output size and `bias` flag sit among the constructor's arguments. */
const BIASED_LAYERS: ReadonlyMap<string, { out: number; outKeyword: string; bias: number }> = new Map([
  ["torch.nn.Linear", { out: 1, outKeyword: "out_features", bias: 2 }],
  ["torch.nn.Conv1d", { out: 1, outKeyword: "out_channels", bias: 7 }],
  ["torch.nn.Conv2d", { out: 1, outKeyword: "out_channels", bias: 7 }],
  ["torch.nn.Conv3d", { out: 1, outKeyword: "out_channels", bias: 7 }],
  ["torch.nn.ConvTranspose1d", { out: 1, outKeyword: "out_channels", bias: 7 }],
  ["torch.nn.ConvTranspose2d", { out: 1, outKeyword: "out_channels", bias: 7 }],
  ["torch.nn.ConvTranspose3d", { out: 1, outKeyword: "out_channels", bias: 7 }],
]);

/**
 * `x.permute(0, 2, 1)` / `x.permute(0, 3, 1, 2)`: moves the last dimension (a Linear's features) to dimension 1,
 * where BatchNorm's channels are, and keeps the rest in order. PointConv's `bn(linear(x).permute(0, 2, 1))`.
 */
function movesLastToChannels(n: GraphNode): boolean {
  if (n.op !== "call_method" || n.target !== "permute" || n.inputs.length !== 1) return false;
  const raw = (n.extra?.args ?? []).filter((a) => a.kind !== "tensor"); // the tensor it is called on comes first
  const items: readonly ExtraArg[] = raw.length === 1 && raw[0].kind === "tuple" ? raw[0].items : raw;
  const dims = items.map((a) => (a.kind === "num" ? constValue(a.sym) : undefined));
  const rank = dims.length;
  if (rank < 3 || dims.some((d) => d === undefined)) return false;
  const expected = [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
  return dims.every((d, i) => d === expected[i] || (i === 1 && d === -1));
}

/**
 * The one consumer of a layer's output, looking through a permute that brings a Linear's features to the channel
 * dimension; undefined when the output has several consumers.
 */
function soleConsumer(layer: ModuleInstance, n: GraphNode, consumers: ReadonlyMap<number, GraphNode[]>): GraphNode | undefined {
  const uses = consumers.get(n.id) ?? [];
  if (uses.length !== 1 || uses[0].inputs[0] !== n.id) return undefined;
  if (layer.qualname === "torch.nn.Linear" && movesLastToChannels(uses[0])) return soleConsumer(layer, uses[0], consumers);
  return uses[0];
}

interface Waste {
  layer: ModuleInstance;
  bn: ModuleInstance;
  bnRun: GraphNode;
  layerRun: GraphNode;
}

/** `bias` is on: not passed (the default is True) or a literal True written in this very call. */
function hasBias(inst: ModuleInstance, spec: { bias: number }): boolean | undefined {
  const arg = inst.kwargs.get("bias") ?? inst.args[spec.bias];
  if (!arg) return true;
  const inCall = arg.range.startIndex >= inst.ctorRange.startIndex && arg.range.endIndex <= inst.ctorRange.endIndex;
  if (!inCall || arg.value.k !== "bool") return undefined; // bound by a partial or computed: not ours to edit
  return arg.value.b;
}

/** A number, or the symbol an `__init__` parameter stands for (`planes`). */
function symOf(v: ModuleInstance["args"][number]["value"]): Sym | undefined {
  return v.k === "num" ? v.sym : v.k === "unknown" ? v.sym : undefined;
}

function sameChannels(layer: ModuleInstance, outIndex: number, outKeyword: string, bn: ModuleInstance): boolean {
  const out = layer.args[outIndex] ?? layer.kwargs.get(outKeyword);
  const features = bn.args[0] ?? bn.kwargs.get("num_features");
  const a = out ? symOf(out.value) : undefined;
  const b = features ? symOf(features.value) : undefined;
  return a !== undefined && b !== undefined && symEquals(a, b);
}

/**
 * A BatchNorm its block builds only when an `__init__` parameter says so (`nn.BatchNorm1d(c) if bn else
 * nn.Identity()`, or under `if bn:`), while some call of that block in the file sets the parameter (`Block(c, 29,
 * bn=False)`) where bnlint builds no graph (a class whose `forward` its base, from another file, defines): that
 * block keeps its bias for a layer without BatchNorm.
 */
function switchedOffElsewhere(context: RuleContext<"wastedBias">, bn: ModuleInstance): boolean {
  const root = context.index.tree.rootNode;
  let node: typeof root | null = root.descendantForIndex(bn.ctorRange.startIndex);
  const switches = new Set<string>();
  let init: typeof root | null = null;
  for (; node; node = node.parent) {
    const condition = node.type === "conditional_expression" ? node.namedChildren[1] : node.type === "if_statement" ? node.childForFieldName("condition") : null;
    if (condition) for (const id of [condition, ...condition.descendantsOfType("identifier")]) if (id?.type === "identifier") switches.add(id.text);
    if (node.type === "function_definition") {
      init = node;
      break;
    }
  }
  const cls = init?.parent?.parent;
  const className = cls?.type === "class_definition" ? cls.childForFieldName("name")?.text : undefined;
  if (!init || init.childForFieldName("name")?.text !== "__init__" || !className || switches.size === 0) return false;
  // Each switch parameter with its default's text (`bn=True`), or undefined without one.
  const defaults = new Map<string, string | undefined>();
  for (const p of init.childForFieldName("parameters")!.namedChildren) {
    if (p?.type === "identifier") defaults.set(p.text, undefined);
    else if (p?.type === "default_parameter" || p?.type === "typed_default_parameter") defaults.set(p.childForFieldName("name")!.text, p.childForFieldName("value")?.text);
  }
  const keys = [...switches].filter((name) => defaults.has(name));
  return keys.length > 0 && root.descendantsOfType("call").some((call) => {
    if (call?.childForFieldName("function")?.text.split(".").pop() !== className) return false;
    return call.childForFieldName("arguments")!.namedChildren.some((a) => {
      if (a?.type !== "keyword_argument") return false;
      const name = a.childForFieldName("name")!.text;
      // `bnorm=True` where True is the default keeps the BatchNorm.
      return keys.includes(name) && a.childForFieldName("value")?.text !== defaults.get(name);
    });
  });
}

/**
 * Layers with a bias whose output, in some run of this graph, is used by anything but one BatchNorm call (an
 * `nn.Identity` where `BatchNorm1d(c) if bn else nn.Identity()` chose it, an activation, a second consumer): a
 * bias that matters there, so the constructor that built them keeps it.
 */
function biasesInUse(graph: ForwardGraph): Set<ModuleInstance> {
  const consumers = new Map<number, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const bnRuns = new Set([...batchNormRuns(graph).values()].flat());
  const used = new Set<ModuleInstance>();
  for (const n of graph.nodes) {
    if (n.op !== "call_module" || !n.instance?.qualname || !BIASED_LAYERS.has(n.instance.qualname)) continue;
    const use = soleConsumer(n.instance, n, consumers);
    if (!use || !bnRuns.has(use)) used.add(n.instance);
  }
  return used;
}

/** Every layer whose every run feeds only a BatchNorm over the same channels. */
function wastedBiases(graph: ForwardGraph): Waste[] {
  const consumers = new Map<number, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const bnOf = new Map<GraphNode, ModuleInstance>();
  for (const [bn, runs] of batchNormRuns(graph)) for (const r of runs) bnOf.set(r, bn);
  const verdict = new Map<ModuleInstance, Waste | null>();
  for (const n of graph.nodes) {
    if (n.op !== "call_module" || !n.instance?.qualname) continue;
    const layer = n.instance;
    const spec = BIASED_LAYERS.get(layer.qualname!);
    if (!spec || verdict.get(layer) === null) continue;
    const bnRun = soleConsumer(layer, n, consumers);
    const bn = bnRun ? bnOf.get(bnRun) : undefined;
    const ok = bn && bnRun && !layer.escaped && hasBias(layer, spec) === true && sameChannels(layer, spec.out, spec.outKeyword, bn);
    verdict.set(layer, ok ? { layer, bn: bn!, bnRun: bnRun!, layerRun: n } : null);
  }
  return [...verdict.values()].filter((w): w is Waste => w !== null);
}

/** `bias=True` → `bias=False`; no `bias` argument → `, bias=False` after the last argument. */
function biasOffFix(context: RuleContext, layer: ModuleInstance): FixDescriptor {
  const explicit = layer.kwargs.get("bias");
  if (explicit) return { title: "Pass bias=False", safety: "unsafe", edits: [{ range: [explicit.range.startIndex, explicit.range.endIndex], text: "False" }] };
  const { startIndex, endIndex } = layer.ctorRange;
  const close = context.text.lastIndexOf(")", endIndex - 1);
  const before = context.text.slice(startIndex, close).trimEnd();
  const at = startIndex + before.length;
  const text = before.endsWith("(") ? "bias=False" : before.endsWith(",") ? " bias=False" : ", bias=False";
  return { title: "Pass bias=False", safety: "unsafe", edits: [{ range: [at, at], text }] };
}

export default defineRule({
  meta: {
    id: "conv-bias-before-batchnorm",
    defaultSeverity: "off",
    description: "A Conv or Linear layer with a bias feeds straight into a BatchNorm, which cancels the bias (opt-in).",
    frameworks: ["torch"],
    messages: {
      wastedBias:
        "{{layer}} has a bias, but its output goes {{how}} `{{bn}}` ({{bnCtor}}), whose mean subtraction cancels any per-channel constant: the bias parameters never affect the output and only cost memory and optimizer state. Pass `bias=False`.",
    },
    fixable: "unsafe",
    docs: {
      whatItDoes:
        "Finds a Conv1d/2d/3d, ConvTranspose or Linear layer whose bias is on (the default) and whose every output goes directly into a BatchNorm over the same number of channels (a Linear's also through a `.permute(0, 2, 1)` that moves its features to the channel dimension, as point-cloud models write). Off by default: it is about wasted parameters, not correctness; enable it with `--rule conv-bias-before-batchnorm:warn`.",
      whyIsThisBad:
        "BatchNorm subtracts the per-channel mean of its input, so a per-channel bias added just before it is subtracted again (in training with the batch mean, in eval mode with the running mean that absorbed it). BatchNorm's own `beta` plays the bias's role. The layer's bias only adds parameters, gradient computations and optimizer state; ResNet and the other torchvision models write `bias=False` for this reason.",
      example: {
        bad: [
          "import torch.nn as nn",
          "",
          "class Stem(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 64, 7, stride=2, padding=3)",
          "        self.bn = nn.BatchNorm2d(64)",
          "",
          "    def forward(self, x):",
          "        return self.bn(self.conv(x)).relu()",
        ].join("\n"),
        good: [
          "import torch.nn as nn",
          "",
          "class Stem(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)",
          "        self.bn = nn.BatchNorm2d(64)",
          "",
          "    def forward(self, x):",
          "        return self.bn(self.conv(x)).relu()",
        ].join("\n"),
      },
      fix: "Pass `bias=False` to the layer. The automatic fix is unsafe: the state dict loses the layer's `bias` key, so checkpoints saved before need `strict=False` or the key removed.",
      knownLimitations:
        "Silent when the layer's output also goes anywhere else (an activation before the BatchNorm, a residual branch, a second consumer), when the same constructor also builds a layer whose output is not normalized (a block built with `bn=False` whose `BatchNorm1d(c) if bn else nn.Identity()` is an Identity), when the channel counts are not known to be equal, when `bias` is bound by `functools.partial` or computed, and when the layer is handed to code bnlint cannot see.",
    },
  },
  check(context) {
    // One constructor can build several layers (a helper called twice): fix it only if all of them waste the bias.
    const byCtor = new Map<number, { wastes: Waste[]; all: Set<ModuleInstance> }>();
    const wasted = new Set<ModuleInstance>();
    for (const graph of context.analysis.graphs) {
      for (const w of wastedBiases(graph)) {
        wasted.add(w.layer);
        const key = w.layer.ctorRange.startIndex;
        if (!byCtor.has(key)) byCtor.set(key, { wastes: [], all: new Set() });
        byCtor.get(key)!.wastes.push(w);
      }
    }
    // A layer the same constructor builds elsewhere whose bias is used: also one a parent model builds with other
    // arguments (`ConvBlock(64, 29, bn=False)`, whose `BatchNorm1d(c) if bn else nn.Identity()` is an Identity).
    const inUse = new Set<number>();
    for (const graph of context.analysis.graphs) {
      for (const inst of graph.instances) byCtor.get(inst.ctorRange.startIndex)?.all.add(inst);
      for (const inst of biasesInUse(graph)) inUse.add(inst.ctorRange.startIndex);
    }
    for (const [ctor, { wastes, all }] of byCtor) {
      if (inUse.has(ctor) || [...all].some((i) => !wasted.has(i))) continue;
      const w = wastes[0];
      if (switchedOffElsewhere(context, w.bn)) continue;
      const bias = w.layer.kwargs.get("bias");
      const written = w.bnRun.calleeRange ? context.text.slice(w.bnRun.calleeRange.startIndex, w.bnRun.calleeRange.endIndex) : "";
      // A child of nn.Sequential is "called" at its place in the list: name it by its module path instead.
      const bnCallee = written.startsWith("self.") || w.bn.paths.length === 0 ? written || constructorLabel(w.bn) : queries.instancePythonPath(w.bn);
      context.report({
        messageId: "wastedBias",
        data: { layer: constructorLabel(w.layer), bn: bnCallee, bnCtor: constructorLabel(w.bn), how: w.bnRun.inputs[0] === w.layerRun.id ? "straight into" : "through a `.permute(...)`, which only moves its features to the channel dimension, into" },
        at: bias ? bias.range : w.layer.ctorRange,
        related: [{ message: `its output goes straight into \`${bnCallee}\` here`, at: w.bnRun.range }],
        fix: biasOffFix(context, w.layer),
      });
    }
  },
});

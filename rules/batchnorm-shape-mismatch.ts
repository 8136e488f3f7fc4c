import {
  defineRule, knowledge, queries, symbolic, type ForwardGraph, type GraphNode, type GraphShapes, type ModuleInstance, type RuleContext,
  type ShapeFact, type Sym,
} from "../src/rule.js";

const { constructorLabel } = queries;
const { BATCHNORM_TYPES, shortName } = knowledge;
const { constValue, symDifferentIfPositive, symKnownDifferent, symToString } = symbolic;

type MessageId = "channels" | "rank" | "linear";
type Ctx = RuleContext<MessageId>;

/** Input ranks each BatchNorm accepts (BatchNorm1d: (N, C) or (N, C, L)). SyncBatchNorm takes any rank ≥ 2. */
const ACCEPTED_RANKS: Record<number, { ranks: number[]; text: string; short: string }> = {
  1: { ranks: [2, 3], text: "a 2-D (N, C) or 3-D (N, C, L) input", short: "2D or 3D" },
  2: { ranks: [4], text: "a 4-D (N, C, H, W) input", short: "4D" },
  3: { ranks: [5], text: "a 5-D (N, C, D, H, W) input", short: "5D" },
};
const TYPE_FOR_RANK: Record<number, string> = { 2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d" };

/**
 * `__init__` parameters (`planes`) and their parts (`configs.d_model`, `dims[0]`) stand for sizes, which are
 * positive; opaque atoms (`a // 4`, loop steps) may be 0.
 */
function isSizeParameter(atom: string): boolean {
  return /^[A-Za-z_]\w*(\.[A-Za-z_]\w*|\[\d+\])*$/.test(atom) && !atom.startsWith("__");
}

/**
 * Certainly different, taking `__init__` parameters as positive and, when the layer's own size is a single
 * opaque atom (`c_ = int(c2 * e)` in YOLO's CSP blocks, `width // 4`), that atom too: a layer of size 0 is no
 * layer, so `BatchNorm2d(c_)` on the `torch.cat` of two `c_`-channel tensors gets `2 * c_ != c_`.
 */
function certainlyDifferent(a: Sym, b: Sym, layerSize?: Sym): boolean {
  const atoms = layerSize ? symbolic.symAtoms(layerSize) : [];
  const ownSize = atoms.length === 1 && symbolic.symEquals(layerSize!, symbolic.symAtom(atoms[0]!)) ? atoms[0] : undefined;
  return symKnownDifferent(a, b) || symDifferentIfPositive(a, b, (atom) => isSizeParameter(atom) || atom === ownSize);
}

function ctorValue(inst: ModuleInstance, index: number, keyword: string): ModuleInstance["args"][number]["value"] | undefined {
  return inst.args[index]?.value ?? inst.kwargs.get(keyword)?.value;
}

function ctorSym(inst: ModuleInstance, index: number, keyword: string): Sym | undefined {
  const v = ctorValue(inst, index, keyword);
  return v?.k === "num" || v?.k === "unknown" ? v.sym : undefined;
}

/** True/false for a literal flag, its default when absent, undefined when the code computes it. */
function ctorFlag(inst: ModuleInstance, index: number, keyword: string, fallback: boolean): boolean | undefined {
  const v = ctorValue(inst, index, keyword);
  if (v === undefined) return fallback;
  return v.k === "bool" ? v.b : undefined;
}

/** Which buffer PyTorch compares the channels with first; undefined when no check runs (no stats, no affine). */
function checkedTensor(inst: ModuleInstance): string | undefined {
  const track = ctorFlag(inst, 4, "track_running_stats", true);
  const affine = ctorFlag(inst, 3, "affine", true);
  if (track === undefined || affine === undefined) return undefined;
  return track ? "running_mean" : affine ? "weight" : undefined;
}

function textOf(text: string, r: { startIndex: number; endIndex: number } | undefined): string | undefined {
  return r ? text.slice(r.startIndex, r.endIndex) : undefined;
}

function calleeName(context: Ctx, node: GraphNode, inst: ModuleInstance): string {
  return inst.paths[0] ? queries.instancePythonPath(inst) : textOf(context.text, node.calleeRange) ?? node.target;
}

/** "`self.conv2` (line 58)", "the input `x` (--input-shape 1,3,32,32)": where a dim was decided. */
function describeOrigin(context: Ctx, graph: ForwardGraph, shapes: GraphShapes, origin: number | undefined): string {
  const n = origin === undefined ? undefined : graph.nodes[origin];
  if (!n) return "the layers before it";
  const line = n.range.start.line;
  if (n.op === "input") {
    const src = shapes.inputSources.get(n.id);
    return src?.kind === "option" ? `the input \`${n.target}\` (--input-shape ${src.text})` : `the input \`${n.target}\``;
  }
  if (n.op === "call_module") return n.instance ? `\`${calleeName(context, n, n.instance)}\` (line ${line})` : `\`${n.target}\` (line ${line})`;
  const callee = textOf(context.text, n.calleeRange) ?? n.target.replace(/^torch\.nn\.functional\./, "F.");
  return `\`${n.op === "call_method" ? callee : callee.replace(/^operator\.\w+$/, "the arithmetic")}\` (line ${line})`;
}

/** `(N, 32, 8, 8)`: constants as numbers, simple names as written, anything else as `?`. */
function shapeText(f: ShapeFact): string {
  const parts = f.dims.map((d, i) => {
    if (!d) return i === 0 ? "N" : "?";
    const s = symToString(d);
    if (constValue(d) !== undefined) return s;
    return i === 0 ? "N" : /^[A-Za-z_][\w *+-]*$/.test(s) && s.length <= 24 ? s : "?";
  });
  return `(${parts.join(", ")})`;
}

function related(context: Ctx, graph: ForwardGraph, inst: ModuleInstance, callee: string, origin: number | undefined, what: string) {
  const out = [{ message: `\`${callee}\` is declared here`, at: inst.declStatement ?? inst.ctorRange }];
  const n = origin === undefined ? undefined : graph.nodes[origin];
  if (n && n.op !== "input") out.push({ message: what, at: n.range });
  return out;
}

function checkBatchNorm(context: Ctx, graph: ForwardGraph, shapes: GraphShapes, node: GraphNode, inst: ModuleInstance): void {
  const input = shapes.facts.get(node.inputs[0]);
  if (!input || node.inputs.length !== 1) return;
  const type = shortName(inst.qualname!);
  const callee = calleeName(context, node, inst);
  const ctor = constructorLabel(inst);
  const spatial = BATCHNORM_TYPES.get(inst.qualname!);
  const rank = input.dims.length;
  const accepted = spatial ? ACCEPTED_RANKS[spatial] : undefined;
  if (accepted && !accepted.ranks.includes(rank)) {
    const origin = node.inputs[0]; // the step that produced a tensor of this rank
    context.report({
      messageId: "rank",
      data: {
        callee, ctor, type, rank, shape: shapeText(input), source: describeOrigin(context, graph, shapes, origin),
        expected: accepted.text, expectedShort: accepted.short, suggested: TYPE_FOR_RANK[rank] ?? "a reshape",
      },
      at: node.range,
      related: related(context, graph, inst, callee, origin, `the ${rank}-D tensor comes from here`),
      model: graph.modelClass.name,
      modulePath: inst.paths[0],
    });
    return;
  }
  if (inst.qualname!.startsWith("torch.nn.Lazy") || rank < 2) return;
  const channels = input.dims[1];
  const features = ctorSym(inst, 0, "num_features");
  const tensor = checkedTensor(inst);
  if (!channels || !features || !tensor || !certainlyDifferent(channels, features, features)) return;
  const origin = input.origins[1];
  context.report({
    messageId: "channels",
    data: {
      callee, ctor, type, tensor, channels: symToString(channels), features: symToString(features),
      source: describeOrigin(context, graph, shapes, origin),
    },
    at: node.range,
    related: related(context, graph, inst, callee, origin, `the ${symToString(channels)} channels come from here`),
    model: graph.modelClass.name,
    modulePath: inst.paths[0],
  });
}

/** A Linear after a flatten whose feature count is known and certainly not `in_features`. */
function checkLinear(context: Ctx, graph: ForwardGraph, shapes: GraphShapes, node: GraphNode, inst: ModuleInstance): void {
  const input = shapes.facts.get(node.inputs[0]);
  if (!input || input.dims.length < 1 || node.inputs.length !== 1) return;
  const features = input.dims[input.dims.length - 1];
  const inFeatures = ctorSym(inst, 0, "in_features");
  if (!features || !inFeatures || !certainlyDifferent(features, inFeatures, inFeatures)) return;
  const rowsSym = input.dims.slice(0, -1).reduce<Sym | undefined>((acc, d) => (acc && d ? symbolic.symMul(acc, d) : undefined), symbolic.symConst(1));
  const rows = rowsSym && constValue(rowsSym) !== undefined ? symToString(rowsSym) : "N";
  const out = ctorSym(inst, 1, "out_features");
  const callee = calleeName(context, node, inst);
  const origin = input.origins[input.dims.length - 1];
  context.report({
    messageId: "linear",
    data: {
      callee, ctor: constructorLabel(inst), features: symToString(features), inFeatures: symToString(inFeatures),
      outFeatures: out ? symToString(out) : "out_features", rows, source: describeOrigin(context, graph, shapes, origin),
    },
    at: node.range,
    related: related(context, graph, inst, callee, origin, `the ${symToString(features)} features come from here`),
    model: graph.modelClass.name,
    modulePath: inst.paths[0],
  });
}

export default defineRule({
  meta: {
    id: "batchnorm-shape-mismatch",
    defaultSeverity: "error",
    description: "A BatchNorm (or the Linear after a flatten) gets a tensor whose channels or rank it was not built for: PyTorch fails when the line runs.",
    frameworks: ["torch"],
    messages: {
      channels:
        "`{{callee}}` ({{ctor}}) receives {{channels}} channels from {{source}}, but it was built for {{features}}: PyTorch raises `RuntimeError: {{tensor}} should contain {{channels}} elements not {{features}}` at run time. Give it the channel count of its input ({{type}}({{channels}})), or fix the layer before it.",
      rank:
        "`{{callee}}` ({{ctor}}) receives a {{rank}}-D tensor {{shape}} from {{source}}, but {{type}} needs {{expected}}: PyTorch raises `ValueError: expected {{expectedShort}} input (got {{rank}}D input)` at run time. Use {{suggested}} for a {{rank}}-D input, or reshape the input.",
      linear:
        "`{{callee}}` ({{ctor}}) receives {{features}} input features from {{source}}, but it was built for {{inFeatures}}: PyTorch raises `RuntimeError: mat1 and mat2 shapes cannot be multiplied ({{rows}}x{{features}} and {{inFeatures}}x{{outFeatures}})` at run time. Set in_features to {{features}}, or fix the layers before it.",
    },
    docs: {
      whatItDoes:
        "Propagates tensor shapes with symbolic sizes through the forward pass (convolutions, pooling, Linear, flatten/view/reshape, torch.cat, broadcasting, permute/transpose, submodules and nn.Sequential) and checks every BatchNorm call: `num_features` must equal the channel dimension (dim 1) of its input, and the input must have the rank the class needs (BatchNorm1d 2-D or 3-D, BatchNorm2d 4-D, BatchNorm3d 5-D). Sizes may be numbers or expressions over `__init__` parameters: `BatchNorm2d(planes * 2)` after a conv with `planes` output channels is a mismatch, `norm_layer(planes * self.expansion)` after `conv1x1(width, planes * 4)` with `expansion = 4` is not. A width bnlint cannot simplify (`c_ = int(c2 * e)` in YOLO's CSP blocks) counts as at least 1 when it is the layer's own size, so `BatchNorm2d(c_)` on the `torch.cat` of two `c_`-channel tensors is a mismatch. When spatial sizes are known (`--input-shape`, or adaptive pooling), a Linear after a flatten is checked against the feature count too.",
      whyIsThisBad:
        "Python runs the model only when it is called, so a BatchNorm built for the wrong number of channels or for the wrong rank fails at run time, often after data loading, at the first batch or in a rarely taken branch, with `running_mean should contain 32 elements not 1` or `expected 4D input (got 2D input)`. The mistake usually comes from a copy-pasted layer or a channel count changed in one place only.",
      example: {
        bad: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 32, 3, padding=1)",
          "        self.bn = nn.BatchNorm2d(64)",
          "",
          "    def forward(self, x):",
          "        return self.bn(self.conv(x))",
        ].join("\n"),
        good: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv = nn.Conv2d(3, 32, 3, padding=1)",
          "        self.bn = nn.BatchNorm2d(32)",
          "",
          "    def forward(self, x):",
          "        return self.bn(self.conv(x))",
        ].join("\n"),
      },
      fix:
        "Give the BatchNorm the channel count of the layer before it (`out_channels` of the conv, `out_features` of the Linear), or pick the BatchNorm class that matches the input's rank (BatchNorm1d after a Linear, BatchNorm2d after a Conv2d). No automatic fix: which side is wrong is the author's call.",
      knownLimitations:
        "Silent whenever a size is not certain: after code bnlint cannot follow (modules from other files, unknown functions, indexing, `chunk`/`split`), inside loops whose length is not known, after calls with `*args`, and for LazyBatchNorm channels. Symbolic sizes are compared assuming `__init__` parameters and their parts (`configs.d_model`, `dims[0]`) are positive, so `planes * 2` and `planes` differ but `planes * 4` and `planes * planes` are not known to. A forward input is taken as batched; its shape comes from `--input-shape` (top-level models) or from the first layer that reads it (`Conv2d(3, ...)` → `(N, 3, H, W)`; a first pooling layer such as `AdaptiveAvgPool2d(1)` gives the rank only: `(N, C, H, W)`). A BatchNorm with `affine=False, track_running_stats=False` accepts any channel count and is not checked. Linear layers are checked in files that use BatchNorm (bnlint is a BatchNorm linter; files without it are not analysed).",
    },
  },
  check(context) {
    for (const graph of context.analysis.graphs) {
      const shapes = context.analysis.shapes(graph);
      for (const node of graph.nodes) {
        const inst = node.op === "call_module" ? node.instance : undefined;
        if (!inst?.qualname) continue;
        if (BATCHNORM_TYPES.has(inst.qualname)) checkBatchNorm(context, graph, shapes, node, inst);
        else if (inst.qualname === "torch.nn.Linear") checkLinear(context, graph, shapes, node, inst);
      }
    }
  },
});

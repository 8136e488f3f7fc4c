import type { ForwardGraph } from "../../model/graph.js";
import type { ModuleInstance } from "../../model/values.js";
import { batchNormRuns } from "../../model/queries.js";
import { isBatchNormType } from "../../model/knowledge.js";
import { BATCHNORM_BUILDER_TEXT, isBatchNormBuilder, isTimmBatchNormModel } from "../../model/builders.js";
import type { ModelClass, ModelIndex } from "../../model/index-types.js";
import type { SyntaxNode } from "./parser.js";
import { qualifiedNameOf, stringLiteral } from "./indexer.js";

/**
 * A BatchNorm whose mode matters: it keeps running statistics. With `track_running_stats=False` it normalises
 * with batch statistics in eval mode too; a value bnlint cannot resolve counts as not known to matter.
 */
function tracksRunningStats(inst: ModuleInstance): boolean {
  // Positional place: after num_features, eps, momentum, affine (the Lazy variants have no num_features).
  const arg = inst.kwargs.get("track_running_stats") ?? inst.args[inst.qualname?.includes("Lazy") ? 3 : 4];
  return arg === undefined || (arg.value.k === "bool" && arg.value.b);
}

/**
 * Names of the file's model classes that contain a BatchNorm with running statistics: one runs in their
 * forward, one is among the modules their `__init__` creates, or one of those modules is an in-file class
 * that contains one.
 */
export function modelClassesWithBatchNorm(graphs: readonly ForwardGraph[]): Set<string> {
  const byName = new Map(graphs.map((g) => [g.modelClass.name, g]));
  const memo = new Map<string, boolean>();
  const contains = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, false); // a class that contains itself adds nothing
    const g = byName.get(name);
    const yes = g !== undefined && ([...batchNormRuns(g).keys()].some(tracksRunningStats) || g.instances.some((i) => (isBatchNormType(i.qualname) && tracksRunningStats(i)) || (i.userClass !== undefined && contains(i.userClass.name))));
    memo.set(name, yes);
    return yes;
  };
  return new Set([...byName.keys()].filter(contains));
}

/** Calls in a subtree. An explicit stack: generated code can nest thousands of levels deep. */
function callsIn(root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const stack = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.type === "call") out.push(node);
    for (const child of node.namedChildren) if (child) stack.push(child);
  }
  return out;
}

/**
 * Model classes whose BatchNorms come from a torchvision builder their `__init__` calls (`self.base =
 * models.resnet50(weights=...)`, a transfer-learning wrapper), directly or through another class of the file
 * that has BatchNorm. The file need not spell "BatchNorm" for these, so they are found from the calls, without
 * graphs. A class that sets modes itself (`self.base.eval()`, a `train()` override keeping BatchNorm frozen) is
 * left out: its BatchNorms' mode is not the model's.
 */
export function classesWrappingBatchNormModels(index: ModelIndex, withBatchNorm: ReadonlySet<string>): Set<string> {
  // A file that names no builder has no such class (the text test spares the tree walks below).
  if (!BATCHNORM_BUILDER_TEXT.test(index.text)) return new Set();
  const found = new Set(withBatchNorm);
  const textOf = (c: ModelClass): string => index.text.slice(c.range.startIndex, c.range.endIndex);
  const candidates = index.classes.filter((c) => {
    if (!c.isModel || found.has(c.name) || c.methods.has("train")) return false;
    return !/\.eval\(\)|\.train\(\s*(False|mode\s*=\s*False)?\s*\)/.test(textOf(c));
  });
  const initCalls = new Map<ModelClass, SyntaxNode[]>();
  const callsOf = (c: ModelClass): SyntaxNode[] => {
    let calls = initCalls.get(c);
    if (!calls) {
      const init = c.methods.get("__init__");
      calls = init ? callsIn(init.body) : [];
      initCalls.set(c, calls);
    }
    return calls;
  };
  // Only classes whose text names a builder or a class found so far can build one.
  const mayBuild = (c: ModelClass): boolean => {
    const text = textOf(c);
    return BATCHNORM_BUILDER_TEXT.test(text) || [...found].some((name) => new RegExp(`\\b${name}\\b`).test(text));
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const cls of candidates) {
      if (found.has(cls.name) || !mayBuild(cls)) continue;
      const builds = callsOf(cls).some((call) => {
        const fn = call.childForFieldName("function");
        if (!fn) return false;
        if (fn.type === "identifier" && index.classByName.has(fn.text)) return found.has(fn.text);
        const q = qualifiedNameOf(fn, index.imports);
        return q !== undefined && (isBatchNormBuilder(q) || (q === "timm.create_model" && timmModelName(call) !== undefined)) && builderKeepsBatchNorm(call);
      });
      if (builds) {
        found.add(cls.name);
        changed = true;
      }
    }
  }
  for (const name of withBatchNorm) found.delete(name);
  return found;
}

/** The model name of `timm.create_model("resnet50", ...)` (or `model_name=`) when its architecture has BatchNorm. */
export function timmModelName(call: SyntaxNode): string | undefined {
  const args = call.childForFieldName("arguments")?.namedChildren.filter((a): a is SyntaxNode => !!a && a.type !== "comment") ?? [];
  const named = args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === "model_name")?.childForFieldName("value");
  const name = stringLiteral(args[0]?.type === "keyword_argument" ? named : args[0]);
  return name !== undefined && isTimmBatchNormModel(name) ? name : undefined;
}

/**
 * Whether a torchvision builder call keeps BatchNorm with running statistics: not with another `norm_layer`
 * (`FrozenBatchNorm2d`, a GroupNorm lambda, InstanceNorm) nor quantized (`quantize=True` fuses BatchNorm into
 * the convolutions).
 */
export function builderKeepsBatchNorm(call: SyntaxNode): boolean {
  const args = call.childForFieldName("arguments");
  for (const arg of args?.namedChildren ?? []) {
    if (arg?.type !== "keyword_argument") continue;
    const name = arg.childForFieldName("name")?.text;
    const value = arg.childForFieldName("value")?.text ?? "";
    if (name === "norm_layer" && (!value.includes("BatchNorm") || value.includes("Frozen"))) return false;
    if (name === "quantize" && value === "True") return false;
  }
  return true;
}

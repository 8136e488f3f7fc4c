/**
 * Makes a model class concrete: constructor arguments (from an instantiation in the same file, else
 * `modelArgs`, else a documented default), the forward graph built with them, and the input shape (from
 * `inputShapes`, else read off the first layer that consumes each input).
 */
import type { ModelArgs } from "../engine/linter.js";
import type { SyntaxNode } from "../frontend/python/parser.js";
import type { CallArgs } from "../frontend/python/calls.js";
import { buildForwardGraphWithArgs } from "../frontend/python/forward-graph.js";
import type { ForwardGraph, GraphNode } from "../model/graph.js";
import { findMethod, type FunctionDef, type ModelClass, type ModelIndex } from "../model/index-types.js";
import { CLASS_COUNT_NAME } from "../model/knowledge.js";
import { rangeOf } from "../model/source.js";
import { constValue, symConst } from "../model/symbolic.js";
import type { ArgInfo, Value } from "../model/values.js";
import { NodeArgs } from "./node-args.js";
import { ModuleArgs, NotExecutable } from "./module-config.js";
import { moduleType } from "./params.js";

/** Default for a constructor parameter with no value anywhere: 10 for class counts, 16 otherwise. */
export const DEFAULT_CLASS_COUNT = 10;
export const DEFAULT_SIZE_ARG = 16;

export interface ConcreteModel {
  graph: ForwardGraph;
  /** `Keras_Cifar2(rank1=8, rank2=16)` with where the values came from. */
  constructorText: string;
  /** The values bound to `__init__`'s parameters, by name (for re-creating the model in PyTorch). */
  kwargs: Record<string, number | boolean | string | null | (number | string | null)[] | { expr: string }>;
  /** Parameters that got bnlint's default number (nothing in the file or in --model-args gave them a value). */
  defaulted: string[];
}

function literal(node: SyntaxNode): Value | undefined {
  switch (node.type) {
    case "integer":
    case "float": {
      const n = Number(node.text.replace(/_/g, ""));
      return Number.isFinite(n) ? { k: "num", sym: symConst(n) } : undefined;
    }
    case "true":
    case "false":
      return { k: "bool", b: node.type === "true" };
    case "none":
      return { k: "none" };
    case "string": {
      const m = /^[rbuRBU]?(["'])(.*)\1$/s.exec(node.text);
      return m ? { k: "str", s: m[2] } : undefined;
    }
    case "unary_operator": {
      const arg = node.childForFieldName("argument");
      const v = arg ? literal(arg) : undefined;
      if (v?.k !== "num" || !node.text.trim().startsWith("-")) return undefined;
      return { k: "num", sym: symConst(-Number(arg!.text)) };
    }
    case "tuple":
    case "list": {
      const items = node.namedChildren.filter((c): c is SyntaxNode => !!c).map(literal);
      return items.every((i) => i !== undefined) ? { k: "tuple", items: items as Value[] } : undefined;
    }
    case "parenthesized_expression":
      return node.namedChildren[0] ? literal(node.namedChildren[0]) : undefined;
  }
  return undefined;
}

/**
 * An argument that is no literal but names only module-level things (`make_layers(CFG, batch_norm=True)`,
 * `BasicBlock`): the interpreter can evaluate it where the model is built. Names local to the enclosing
 * function (`VGG(features, **kwargs)` inside a builder) have no value there.
 */
function moduleLevelExpression(expr: SyntaxNode, index: ModelIndex): boolean {
  const names = expr.type === "identifier" ? [expr] : expr.descendantsOfType("identifier");
  return names.every((n) => {
    if (n.parent?.type === "keyword_argument" && n.parent.childForFieldName("name")?.id === n.id) return true;
    if (n.parent?.type === "attribute" && n.parent.childForFieldName("attribute")?.id === n.id) return true;
    const name = n.text;
    return index.classByName.has(name) || index.functions.has(name) || index.globals.has(name) || index.imports.lookup(name) !== undefined;
  });
}

/** An argument whose value comes from elsewhere: a builder's local name, or a wrapper's parameter and the call that fills it. */
interface ShownArgument {
  name: string;
  line: number;
  /** `_resnet` when the value is the argument a call of that wrapper passes. */
  wrapper?: string;
}

interface Instantiation {
  args: CallArgs;
  /** Arguments to evaluate with the interpreter, by their place: positional index or keyword name. */
  expressions: Map<number | string, SyntaxNode>;
  /** Where an argument taken from a builder's local name got its value (`` `cfg` at line 12 ``). */
  shown: Map<number | string, ShownArgument>;
  line: number;
}

/**
 * In a builder function (`def DPN92(): cfg = {...}; return DPN(cfg)`), the one value a local name is given: the
 * right-hand side of its only assignment in the function, when that is a plain `name = expr` statement.
 */
function localDefinition(name: SyntaxNode, index: ModelIndex): SyntaxNode | undefined {
  let fn = name.parent;
  while (fn && fn.type !== "function_definition") fn = fn.parent;
  const body = fn?.childForFieldName("body");
  if (!body) return undefined;
  const word = new RegExp(`(^|[^\\w])${name.text}($|[^\\w])`);
  let found: SyntaxNode | undefined;
  for (const st of body.descendantsOfType(["assignment", "augmented_assignment", "for_statement", "as_pattern_target", "function_definition", "global_statement", "nonlocal_statement"])) {
    // A nested function or a scope statement that names it: not followed.
    if (st.type === "function_definition" || st.type === "global_statement" || st.type === "nonlocal_statement") {
      if (word.test(st.text)) return undefined;
      continue;
    }
    const target = st.type === "as_pattern_target" ? st : st.childForFieldName("left");
    if (!target || !word.test(target.text)) continue;
    const plainStore = st.type === "assignment" && target.type === "identifier" && target.text === name.text && st.parent?.parent === body;
    if (found || !plainStore) return undefined;
    found = st.childForFieldName("right") ?? undefined;
  }
  return found && (literal(found) || moduleLevelExpression(found, index)) ? found : undefined;
}

/** The identifier that defines a module-level class, function or global `name`: evaluated, it is that definition. */
function moduleLevelName(index: ModelIndex, name: string): SyntaxNode | undefined {
  const definition = index.classByName.get(name)?.node ?? index.functions.get(name)?.node;
  const named = definition?.childForFieldName("name");
  if (named) return named;
  return index.tree.rootNode.namedChildren
    .filter((st) => st.type === "expression_statement")
    .map((st) => st.namedChildren[0]?.childForFieldName("left"))
    .find((left) => left?.type === "identifier" && left.text === name) ?? undefined;
}

/** The module-level function whose body holds `node`, with its definition. */
function enclosingFunction(node: SyntaxNode, index: ModelIndex): FunctionDef | undefined {
  let fn = node.parent;
  while (fn && fn.type !== "function_definition") fn = fn.parent;
  const name = fn?.childForFieldName("name")?.text;
  const def = name ? index.functions.get(name) : undefined;
  return def && def.node.startIndex === fn!.startIndex ? def : undefined;
}

/**
 * A parameter of a builder wrapper (`def _resnet(arch, block, layers, ...): return ResNet(block, layers)`): the
 * argument the first call of the wrapper in the file passes for it (`_resnet("resnet18", BasicBlock, [2, 2, 2, 2])`),
 * when that is a literal or a module-level expression.
 */
function parameterArgument(name: SyntaxNode, index: ModelIndex): SyntaxNode | undefined {
  const def = enclosingFunction(name, index);
  if (!def) return undefined;
  const params = def.params.filter((p) => p.kind === "positional" || p.kind === "keyword");
  const position = params.findIndex((p) => p.name === name.text);
  if (position < 0) return undefined;
  for (const call of index.tree.rootNode.descendantsOfType("call")) {
    const fn = call.childForFieldName("function");
    if (fn?.type !== "identifier" || fn.text !== def.name) continue;
    const args = call.childForFieldName("arguments")?.namedChildren.filter((a) => a.type !== "comment") ?? [];
    const positional = args.filter((a) => a.type !== "keyword_argument");
    if (positional.slice(0, position + 1).some((a) => a.type === "list_splat" || a.type === "dictionary_splat")) continue;
    const keyword = args.find((a) => a.type === "keyword_argument" && a.childForFieldName("name")?.text === name.text)?.childForFieldName("value");
    const arg = keyword ?? (position < positional.length ? positional[position] : undefined);
    if (arg && (literal(arg) || moduleLevelExpression(arg, index))) return arg;
  }
  return undefined;
}

/** `**kwargs` passing on the enclosing function's own `**kwargs`: taken as empty (the model's defaults). */
function forwardedKeywords(splat: SyntaxNode, index: ModelIndex): boolean {
  const inner = splat.namedChildren[0];
  if (inner?.type !== "identifier") return false;
  return enclosingFunction(splat, index)?.params.some((p) => p.kind === "kwstar" && p.name === inner.text) ?? false;
}

/**
 * The first call `Name(...)` in the file whose arguments are literals or module-level expressions, or names a
 * builder function gives such a value once, or parameters of a builder wrapper that its first call fills.
 */
function instantiationInFile(index: ModelIndex, cls: ModelClass): Instantiation | undefined {
  for (const call of index.tree.rootNode.descendantsOfType("call")) {
    if (!call) continue;
    const fn = call.childForFieldName("function");
    if (fn?.type !== "identifier" || fn.text !== cls.name) continue;
    const argList = call.childForFieldName("arguments");
    if (!argList) continue;
    const args = { positional: [] as ArgInfo[], keywords: new Map<string, ArgInfo>(), spread: false };
    const expressions = new Map<number | string, SyntaxNode>();
    const shown = new Map<number | string, ShownArgument>();
    let ok = true;
    for (const a of argList.namedChildren) {
      if (!a || a.type === "comment") continue;
      if (a.type === "dictionary_splat" && forwardedKeywords(a, index)) continue;
      const written = a.type === "keyword_argument" ? a.childForFieldName("value") : a;
      const expr = written?.type === "identifier" && !moduleLevelExpression(written, index) ? localDefinition(written, index) ?? parameterArgument(written, index) : written;
      if (!expr || a.type === "list_splat" || a.type === "dictionary_splat") {
        ok = false;
        break;
      }
      const value = literal(expr);
      if (!value && !moduleLevelExpression(expr, index)) {
        ok = false;
        break;
      }
      const info: ArgInfo = { value: value ?? { k: "unknown", why: "evaluated when the model is built" }, text: expr.text, range: rangeOf(expr) };
      const place = a.type === "keyword_argument" ? a.childForFieldName("name")!.text : args.positional.length;
      if (!value) expressions.set(place, expr);
      if (expr !== written) {
        const wrapper = localDefinition(written!, index) ? undefined : enclosingFunction(written!, index)?.name;
        shown.set(place, { name: written!.text, line: expr.startPosition.row + 1, wrapper });
      }
      if (typeof place === "string") args.keywords.set(place, info);
      else args.positional.push(info);
    }
    if (ok) return { args, expressions, shown, line: call.startPosition.row + 1 };
  }
  return undefined;
}

function plain(v: Value): ConcreteModel["kwargs"][string] {
  if (v.k === "num") return constValue(v.sym) ?? null;
  if (v.k === "bool") return v.b;
  if (v.k === "str") return v.s;
  if (v.k === "tuple") return v.items.map((i) => (i.k === "num" ? constValue(i.sym) ?? null : i.k === "str" ? i.s : null));
  return null;
}

export function concreteModel(index: ModelIndex, cls: ModelClass, modelArgs: ModelArgs | undefined): ConcreteModel | undefined {
  const init = findMethod(cls, "__init__");
  const params = (init?.def.params ?? []).slice(1).filter((p) => p.kind === "positional" || p.kind === "keyword");
  const found = instantiationInFile(index, cls);
  const bound = { positional: [] as ArgInfo[], keywords: new Map<string, ArgInfo>(), spread: false };
  const kwargs: ConcreteModel["kwargs"] = {};
  const shown: string[] = [];
  const defaulted: string[] = [];
  const fromFile = new Set<string>();
  const expressions = new Map<string, SyntaxNode>();
  const display = new Map<string, ShownArgument>();
  if (found) {
    const take = (name: string, place: number | string, a: ArgInfo): void => {
      bound.keywords.set(name, a);
      fromFile.add(name);
      const expr = found.expressions.get(place);
      if (expr) expressions.set(name, expr);
      const text = found.shown.get(place);
      if (text) display.set(name, text);
    };
    found.args.positional.forEach((a, i) => {
      if (params[i]) take(params[i].name, i, a);
    });
    for (const [k, a] of found.args.keywords) take(k, k, a);
  }
  const sources = new Set<string>();
  for (const p of params) {
    const fileArg = bound.keywords.get(p.name);
    if (fileArg) {
      // A value JSON cannot carry as is (a list of tuples) goes to PyTorch as its source text.
      const simple = plain(fileArg.value);
      const complex = (simple === null && fileArg.value.k !== "none") || (Array.isArray(simple) && simple.includes(null));
      kwargs[p.name] = expressions.has(p.name) || complex ? { expr: fileArg.text } : simple;
      // A builder's local name is shown as written, not as the (often long) literal it holds; a wrapper's
      // parameter by the value its call passes.
      const local = display.get(p.name);
      shown.push(`${p.name}=${local && !local.wrapper ? local.name : fileArg.text}`);
      sources.add(`line ${found!.line}`);
      if (local) sources.add(local.wrapper ? `the call of \`${local.wrapper}\` at line ${local.line}` : `\`${local.name}\` at line ${local.line}`);
      continue;
    }
    const given = modelArgs?.[cls.name]?.[p.name];
    if (given !== undefined && typeof given === "object" && !Array.isArray(given)) {
      // A name of the file (`block=BasicBlock`): the interpreter evaluates its definition's name where the model is built.
      const definition = moduleLevelName(index, given.name);
      bound.keywords.set(p.name, { value: { k: "unknown", why: `\`${given.name}\` is not a class, function or global of this file` }, text: given.name, range: cls.nameRange });
      if (definition) expressions.set(p.name, definition);
      kwargs[p.name] = { expr: given.name };
      shown.push(`${p.name}=${given.name}`);
      sources.add("--model-args");
      continue;
    }
    if (given !== undefined) {
      const scalar = (x: number | string): Value => (typeof x === "string" ? { k: "str", s: x } : { k: "num", sym: symConst(x) });
      const shown1 = (x: number | string | boolean): string => (typeof x === "string" ? JSON.stringify(x) : typeof x === "boolean" ? (x ? "True" : "False") : String(x));
      // A list is a tuple, as `(6, 12, 18)` in Python code would be.
      const value: Value = Array.isArray(given) ? { k: "tuple", items: given.map(scalar) } : typeof given === "boolean" ? { k: "bool", b: given } : scalar(given);
      const text = Array.isArray(given) ? `(${given.map(shown1).join(", ")}${given.length === 1 ? "," : ""})` : shown1(given);
      bound.keywords.set(p.name, { value, text, range: cls.nameRange });
      kwargs[p.name] = given;
      shown.push(`${p.name}=${text}`);
      sources.add("--model-args");
      continue;
    }
    if (p.defaultNode) continue;
    const fallback = CLASS_COUNT_NAME.test(p.name) ? DEFAULT_CLASS_COUNT : DEFAULT_SIZE_ARG;
    bound.keywords.set(p.name, { value: { k: "num", sym: symConst(fallback) }, text: String(fallback), range: cls.nameRange });
    kwargs[p.name] = fallback;
    shown.push(`${p.name}=${fallback}`);
    defaulted.push(p.name);
    sources.add("bnlint's default");
  }
  const graph = buildForwardGraphWithArgs(index, cls, bound, undefined, expressions);
  if (!graph) return undefined;
  const origin = sources.size > 0 ? ` (values from ${[...sources].join(", ")})` : "";
  return { graph, constructorText: `${cls.name}(${shown.join(", ")})${origin}`, kwargs, defaulted };
}

/** Spatial sizes tried, in order, when the input shape is read off the first layer. */
/** Features of a vector input read first by a lazy module (`LazyLinear`, `LazyBatchNorm1d`). */
export const LAZY_INPUT_FEATURES = 16;
export const SPATIAL_CANDIDATES = [32, 28, 64, 224, 112, 16];
/** For 3-d inputs (`Conv3d`, `BatchNorm3d` first): each size is used for depth, height and width. */
export const VOLUME_CANDIDATES = [16, 32, 8];

/** Nodes that keep the tensor's shape, so the first layer after them fixes the input shape. */
function consumers(graph: ForwardGraph, id: number): GraphNode[] {
  return graph.nodes.filter((n) => n.inputs.includes(id));
}

/**
 * Input shapes (batch first, with `batch` samples) for each spatial candidate, read off the first layer that
 * consumes each input: `Conv2d(3, …)` gives `[N, 3, S, S]`, `Linear(784, …)` gives `[N, 784]`.
 */
/** Token ids per sample of an input read first by an `nn.Embedding` (a sequence, or a table's categorical columns). */
export const TOKEN_COLUMNS = 32;

/**
 * Candidate input shapes, and per input the vocabulary its values are drawn from when an `nn.Embedding` reads it
 * (token ids below the smallest embedding's `num_embeddings`), undefined for float inputs.
 */
export function inferInputShapes(graph: ForwardGraph, batch: number, given: number[] | undefined): { shapes: number[][][]; how: string; vocabs: (number | undefined)[] } {
  if (given) {
    // The shape is the user's; the values are still token ids where an embedding reads the input.
    const vocabs = graph.inputs.map((id) => firstLayerThrough(graph, id, () => 1)?.tokens);
    return { shapes: [graph.inputs.map(() => [batch, ...given.slice(1)])], how: "given", vocabs };
  }
  const templates = graph.inputs.map((id) => firstLayerShape(graph, id));
  const vocabs = templates.map((t) => t.tokens);
  const how = templates.some((t) => t.lazy) ? "lazy" : "inferred";
  const spatialRanks = templates.map((t) => t.spatialRank);
  const oneChannel = templates.some((t) => t.channels === 1 && t.spatialRank === 2);
  // Volumes (video, medical scans) are tried small: a 3-d convolution costs a cube of the size.
  const candidates = spatialRanks.some((r) => r === 3) ? VOLUME_CANDIDATES : spatialRanks.some((r) => r > 0) ? (oneChannel ? [28, 32, 64, 16] : SPATIAL_CANDIDATES) : [0];
  return {
    shapes: candidates.map((s) => templates.map((t) => (t.tokens !== undefined ? [batch, TOKEN_COLUMNS] : [batch, t.channels, ...Array(t.spatialRank).fill(t.spatialRank === 1 ? s * 2 : s)]))),
    how,
    vocabs,
  };
}

/** Operations whose output has the channels (dimension 1) of their input: a layer after them reads the input's. */
const CHANNEL_KEEPING_MODULE = /^(ReLU6?|LeakyReLU|PReLU|R?ELU|SELU|CELU|GELU|SiLU|Mish|Sigmoid|Tanh|Hard(swish|sigmoid|tanh)|Softplus|Dropout[123]?d?|Identity|(Max|Avg|AdaptiveMax|AdaptiveAvg)Pool[123]d|Upsample|(Reflection|Replication|Zero|Constant)Pad[123]d)$/;
const CHANNEL_KEEPING_CALL = /(^|\.)(relu6?|leaky_relu|gelu|silu|sigmoid|tanh|hardswish|hardsigmoid|elu|mish|softplus|dropout\w*|(max|avg)_pool[123]d|adaptive_(max|avg)_pool[123]d|interpolate|upsample|pad|contiguous|clone|detach|float|to|add|mul|sub|relu_|add_|mul_)$/;

/** How a node scales the channels on the way to a layer: 1 keeps them, k for `x.chunk(k, 1)`, undefined: unknown. */
function channelFactor(graph: ForwardGraph, n: GraphNode): number | undefined {
  if (n.op === "call_module") return n.instance?.qualname && CHANNEL_KEEPING_MODULE.test(moduleType(n.instance)) ? 1 : undefined;
  if (n.op !== "call_function" && n.op !== "call_method") return undefined;
  if (CHANNEL_KEEPING_CALL.test(n.target)) return 1;
  if (n.target === "chunk" || n.target === "torch.chunk") {
    const a = new NodeArgs(n, 1, 1); // after the tensor: the receiver, or torch.chunk's first argument
    try {
      return a.number(1, "dim", 0) === 1 ? a.number(0, "chunks") : undefined;
    } catch {
      return undefined;
    }
  }
  // One part of a chunked tensor (`x1, x2 = x.chunk(2, dim=1)`).
  const source = graph.nodes[n.inputs[0]];
  if (n.target === "operator.getitem" && source && (source.target === "chunk" || source.target === "torch.chunk")) return 1;
  return undefined;
}

/**
 * The first layer that reads an input, and so its channels and rank. Paths through operations that keep the
 * channels are tried first (`x.chunk(2, 1)` or `x.view(...)` before a layer change them); only when none
 * reaches a layer, any path is.
 */
interface InputTemplate {
  channels: number;
  spatialRank: number;
  lazy?: boolean;
  /** Read by an embedding: token ids below this. */
  tokens?: number;
}

function firstLayerShape(graph: ForwardGraph, inputId: number): InputTemplate {
  return firstLayerThrough(graph, inputId, (n) => channelFactor(graph, n)) ?? firstLayerThrough(graph, inputId, () => 1) ?? (() => {
    throw new NotExecutable(`the input shape of \`${graph.modelClass.name}\` (no Conv, Linear or BatchNorm reads the input); pass inputShapes`, graph.forward.nameRange.start.line);
  })();
}

/** The smallest `num_embeddings` of the model's embeddings: token ids below it fit every one of them. */
function smallestVocabulary(graph: ForwardGraph): number {
  const sizes = graph.nodes.filter((n) => n.op === "call_module" && n.instance?.qualname === "torch.nn.Embedding").map((n) => new ModuleArgs(n.instance!, "Embedding").number("num_embeddings"));
  return Math.min(...sizes);
}

/** The spatial rank a global pooling module (`AdaptiveAvgPool2d(1)`, `AdaptiveMaxPool1d(1)`) reduces to 1. */
function globalPoolRank(n: GraphNode): number | undefined {
  if (n.op !== "call_module" || !n.instance?.qualname) return undefined;
  const pool = /^Adaptive(Avg|Max)Pool([123])d$/.exec(moduleType(n.instance));
  if (!pool) return undefined;
  const size = n.instance.args[0] ?? n.instance.kwargs.get("output_size");
  const value = size?.value;
  const ones = value?.k === "num" ? constValue(value.sym) === 1 : value?.k === "tuple" && value.items.every((i) => i.k === "num" && constValue(i.sym) === 1);
  return ones ? Number(pool[2]) : undefined;
}

/** `factor(n)`: how node n scales the channels on the way (undefined: the path is not followed). */
function firstLayerThrough(graph: ForwardGraph, inputId: number, factor: (n: GraphNode) => number | undefined): InputTemplate | undefined {
  const seen = new Set<number>();
  // `pooled`: the spatial rank of a global pooling on the way (`AdaptiveAvgPool2d(1)`): a Linear after it reads
  // the channels of an input of that rank (squeeze-and-excitation and CBAM blocks on their own).
  const queue: [number, number, number | undefined][] = [[inputId, 1, undefined]];
  while (queue.length > 0) {
    const [id, scale, pooled] = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const n of consumers(graph, id)) {
      if (n.op === "call_module" && n.instance?.qualname) {
        const type = moduleType(n.instance);
        const args = new ModuleArgs(n.instance, type);
        const conv = /^Conv([123])d$/.exec(type);
        if (conv) return { channels: scale * args.number("in_channels"), spatialRank: Number(conv[1]) };
        if (type === "ConvTranspose2d") return { channels: scale * args.number("in_channels"), spatialRank: 2 };
        if (type === "Linear") return { channels: scale * args.number("in_features"), spatialRank: pooled ?? 0 };
        const bn = /^BatchNorm([123])d$/.exec(type);
        if (bn) return { channels: scale * args.number("num_features"), spatialRank: bn[1] === "1" ? 0 : Number(bn[1]) };
        if (type === "Embedding") return { channels: 0, spatialRank: 0, tokens: smallestVocabulary(graph) };
        // A lazy first layer takes any size: images get 3 channels, feature vectors LAZY_INPUT_FEATURES.
        const lazy = /^Lazy(Linear|Conv([123])d|BatchNorm([123])d)$/.exec(type);
        if (lazy) {
          const rank = Number(lazy[2] ?? lazy[3] ?? 0);
          return lazy[1] === "Linear" || (rank === 1 && lazy[3]) ? { channels: LAZY_INPUT_FEATURES, spatialRank: 0, lazy: true } : { channels: 3, spatialRank: rank, lazy: true };
        }
      }
      const f = factor(n);
      if (f !== undefined) queue.push([n.id, scale * f, globalPoolRank(n) ?? pooled]);
    }
  }
  return undefined;
}

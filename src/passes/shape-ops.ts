/**
 * The operator table of the shape pass: module class, function or method name → shape function. A function
 * returns undefined whenever it cannot be sure (unknown argument, unexpected rank); the pass then knows
 * nothing downstream of it. Anything not listed here yields an unknown shape.
 */
import type { ExtraArg, GraphNode } from "../model/graph.js";
import type { Value } from "../model/values.js";
import { constValue, symAdd, symConst, type Sym } from "../model/symbolic.js";
import {
  broadcast, convOut, convTransposeOut, fact, madeBy, mulAll, normalizeDim, viewShape, type ShapeFact, type ViewEntry,
} from "./shape-math.js";

export interface OpContext {
  readonly node: GraphNode;
  shapeOf(nodeId: number | undefined): ShapeFact | undefined;
  /** Call argument `i` (for methods: after the receiver), or the keyword. */
  arg(i: number, keyword?: string): ExtraArg | undefined;
  /** Constructor argument of the module that runs (`Conv2d(3, 64, kernel_size=3)`). */
  ctor(i: number, keyword: string): Value | undefined;
  /** Source text of the receiver (`x` in `x.view(x.size(0), -1)`). */
  readonly receiverText?: string;
}

export type ShapeFn = (c: OpContext) => ShapeFact | undefined;

// ───────────────────────────── argument readers ─────────────────────────────

function valueSym(v: Value | undefined): Sym | undefined {
  if (v?.k === "num") return v.sym;
  if (v?.k === "unknown") return v.sym;
  return undefined;
}

function extraSym(a: ExtraArg | undefined): Sym | undefined {
  return a?.kind === "num" ? a.sym : undefined;
}

/** An int-or-tuple argument (`kernel_size=3`, `(3, 1)`), as `n` sizes; `fallback` when it is absent. */
function valueInts(v: Value | undefined, n: number, fallback?: number): (Sym | undefined)[] {
  if (v === undefined || v.k === "none") return Array(n).fill(fallback === undefined ? undefined : symConst(fallback));
  const single = valueSym(v);
  if (single) return Array(n).fill(single);
  const items = v.k === "tuple" ? v.items : v.k === "list" && v.box.exact ? v.box.items.map((i) => i.value) : undefined;
  if (items && items.length === n) return items.map(valueSym);
  return Array(n).fill(undefined);
}

function extraInts(a: ExtraArg | undefined, n: number, fallback?: number): (Sym | undefined)[] {
  if (a === undefined || (a.kind === "other" && a.text === "None")) return Array(n).fill(fallback === undefined ? undefined : symConst(fallback));
  if (a.kind === "num") return Array(n).fill(a.sym);
  if (a.kind === "tuple" && a.items.length === n) return a.items.map(extraSym);
  return Array(n).fill(undefined);
}

/** A flag argument: true/false when written as a literal, undefined otherwise. */
function valueFlag(v: Value | undefined, fallback: boolean): boolean | undefined {
  if (v === undefined) return fallback;
  if (v.k === "bool") return v.b;
  const c = valueSym(v);
  return c && constValue(c) !== undefined ? constValue(c) !== 0 : undefined;
}

function extraFlag(a: ExtraArg | undefined, fallback: boolean): boolean | undefined {
  if (a === undefined) return fallback;
  if (a.kind === "other") return a.text === "True" ? true : a.text === "False" ? false : undefined;
  if (a.kind === "num") return constValue(a.sym) === undefined ? undefined : constValue(a.sym) !== 0;
  return undefined;
}

function firstTensor(c: OpContext): ShapeFact | undefined {
  const a = c.arg(0);
  return a?.kind === "tensor" ? c.shapeOf(a.node) : undefined;
}

function moduleInput(c: OpContext): ShapeFact | undefined {
  return c.shapeOf(c.node.inputs[0]);
}

// ───────────────────────────── layers ─────────────────────────────

interface ConvArgs {
  out: Sym | undefined;
  kernel: (Sym | undefined)[];
  stride: (Sym | undefined)[];
  padding: (Sym | undefined)[] | "same";
  dilation: (Sym | undefined)[];
  outputPadding: (Sym | undefined)[];
}

function paddingOf(v: Value | undefined, k: number): (Sym | undefined)[] | "same" {
  if (v?.k === "str") return v.s === "same" ? "same" : v.s === "valid" ? Array(k).fill(symConst(0)) : Array(k).fill(undefined);
  return valueInts(v, k, 0);
}

function convArgs(c: OpContext, k: number, kind: "conv" | "lazy" | "transpose"): ConvArgs {
  if (kind === "lazy") {
    return { out: valueSym(c.ctor(0, "out_channels")), kernel: valueInts(c.ctor(1, "kernel_size"), k), stride: valueInts(c.ctor(2, "stride"), k, 1), padding: paddingOf(c.ctor(3, "padding"), k), dilation: valueInts(c.ctor(4, "dilation"), k, 1), outputPadding: [] };
  }
  if (kind === "transpose") {
    return { out: valueSym(c.ctor(1, "out_channels")), kernel: valueInts(c.ctor(2, "kernel_size"), k), stride: valueInts(c.ctor(3, "stride"), k, 1), padding: valueInts(c.ctor(4, "padding"), k, 0), outputPadding: valueInts(c.ctor(5, "output_padding"), k, 0), dilation: valueInts(c.ctor(8, "dilation"), k, 1) };
  }
  return { out: valueSym(c.ctor(1, "out_channels")), kernel: valueInts(c.ctor(2, "kernel_size"), k), stride: valueInts(c.ctor(3, "stride"), k, 1), padding: paddingOf(c.ctor(4, "padding"), k), dilation: valueInts(c.ctor(5, "dilation"), k, 1), outputPadding: [] };
}

/**
 * Conv{k}d: channels become out_channels, spatial sizes follow the window formula. An input of unknown shape
 * is taken as batched (N, C, ...), as every model input is; a known rank other than k+1 or k+2 makes PyTorch
 * raise, so nothing is known after it.
 */
function conv(k: number, kind: "conv" | "lazy" | "transpose"): ShapeFn {
  return (c) => {
    const input = moduleInput(c);
    const rank = input ? input.dims.length : k + 2;
    if (rank !== k + 1 && rank !== k + 2) return undefined;
    if (kind === "transpose" && c.arg(1, "output_size") !== undefined) return undefined;
    const a = convArgs(c, k, kind);
    const channelAt = rank - k - 1;
    const dims: (Sym | undefined)[] = [];
    const origins: (number | undefined)[] = [];
    for (let i = 0; i < rank; i++) {
      const s = i - channelAt - 1; // spatial index
      if (i < channelAt) {
        dims.push(input?.dims[i]);
        origins.push(input?.origins[i]);
      } else if (i === channelAt) {
        dims.push(a.out);
        origins.push(c.node.id);
      } else {
        const size = input?.dims[i];
        const out = a.padding === "same" ? size
          : kind === "transpose" ? convTransposeOut(size, a.kernel[s], a.stride[s], a.padding[s], a.outputPadding[s], a.dilation[s])
            : convOut(size, a.kernel[s], a.stride[s], a.padding[s], a.dilation[s]);
        dims.push(out);
        origins.push(c.node.id);
      }
    }
    return fact(dims, origins);
  };
}

function linear(outIndex: number): ShapeFn {
  return (c) => {
    const input = moduleInput(c);
    if (!input || input.dims.length === 0) return undefined;
    return fact([...input.dims.slice(0, -1), valueSym(c.ctor(outIndex, "out_features"))], [...input.origins.slice(0, -1), c.node.id]);
  };
}

const preserveModule: ShapeFn = (c) => moduleInput(c);
const preserveFirst: ShapeFn = (c) => firstTensor(c);

/** Sizes of a pooling window over the last `k` dims; channels and batch are kept. */
function pooled(input: ShapeFact | undefined, k: number, node: number, size: (i: number, s: Sym | undefined) => Sym | undefined): ShapeFact | undefined {
  if (!input || (input.dims.length !== k + 1 && input.dims.length !== k + 2)) return undefined;
  const lead = input.dims.length - k;
  const dims = input.dims.map((d, i) => (i < lead ? d : size(i - lead, d)));
  const origins = input.origins.map((o, i) => (i < lead ? o : node));
  return fact(dims, origins);
}

interface PoolArgs {
  kernel: (Sym | undefined)[];
  stride: (Sym | undefined)[];
  padding: (Sym | undefined)[];
  dilation: (Sym | undefined)[];
  ceil: boolean | undefined;
  indices: boolean | undefined;
}

function windowPool(k: number, read: (c: OpContext) => PoolArgs, input: (c: OpContext) => ShapeFact | undefined): ShapeFn {
  return (c) => {
    const a = read(c);
    if (a.indices !== false) return undefined; // a (values, indices) tuple
    const stride = a.stride.every((s) => s === undefined) ? a.kernel : a.stride;
    return pooled(input(c), k, c.node.id, (i, s) => (a.ceil === false ? convOut(s, a.kernel[i], stride[i], a.padding[i], a.dilation[i]) : undefined));
  };
}

function maxPoolModule(k: number): ShapeFn {
  return windowPool(k, (c) => ({
    kernel: valueInts(c.ctor(0, "kernel_size"), k),
    stride: valueInts(c.ctor(1, "stride"), k),
    padding: valueInts(c.ctor(2, "padding"), k, 0),
    dilation: valueInts(c.ctor(3, "dilation"), k, 1),
    indices: valueFlag(c.ctor(4, "return_indices"), false),
    ceil: valueFlag(c.ctor(5, "ceil_mode"), false),
  }), moduleInput);
}

function avgPoolModule(k: number): ShapeFn {
  return windowPool(k, (c) => ({
    kernel: valueInts(c.ctor(0, "kernel_size"), k),
    stride: valueInts(c.ctor(1, "stride"), k),
    padding: valueInts(c.ctor(2, "padding"), k, 0),
    dilation: Array(k).fill(symConst(1)),
    ceil: valueFlag(c.ctor(3, "ceil_mode"), false),
    indices: false,
  }), moduleInput);
}

function maxPoolFunction(k: number): ShapeFn {
  return windowPool(k, (c) => ({
    kernel: extraInts(c.arg(1, "kernel_size"), k),
    stride: extraInts(c.arg(2, "stride"), k),
    padding: extraInts(c.arg(3, "padding"), k, 0),
    dilation: extraInts(c.arg(4, "dilation"), k, 1),
    ceil: extraFlag(c.arg(5, "ceil_mode"), false),
    indices: extraFlag(c.arg(6, "return_indices"), false),
  }), firstTensor);
}

function avgPoolFunction(k: number): ShapeFn {
  return windowPool(k, (c) => ({
    kernel: extraInts(c.arg(1, "kernel_size"), k),
    stride: extraInts(c.arg(2, "stride"), k),
    padding: extraInts(c.arg(3, "padding"), k, 0),
    dilation: Array(k).fill(symConst(1)),
    ceil: extraFlag(c.arg(4, "ceil_mode"), false),
    indices: false,
  }), firstTensor);
}

/** `output_size` of adaptive pooling: an int, a tuple, or None entries that keep the input size. */
function adaptive(k: number, sizes: (c: OpContext) => ExtraArg | Value | undefined, input: (c: OpContext) => ShapeFact | undefined, indices: (c: OpContext) => boolean | undefined): ShapeFn {
  return (c) => {
    if (indices(c) !== false) return undefined;
    const raw = sizes(c);
    if (raw === undefined) return undefined;
    const out = "kind" in raw ? extraInts(raw, k) : valueInts(raw, k);
    const noneAt = (i: number): boolean => {
      if ("kind" in raw) return raw.kind === "tuple" && raw.items[i]?.kind === "other" && (raw.items[i] as { text: string }).text === "None";
      return raw.k === "tuple" && raw.items[i]?.k === "none";
    };
    return pooled(input(c), k, c.node.id, (i, s) => (noneAt(i) ? s : out[i]));
  };
}

/** Modules that keep the batch and channel dims and change the spatial ones in ways not tracked. */
function keepLeading(n: number): ShapeFn {
  return (c) => {
    const input = moduleInput(c);
    if (!input || input.dims.length <= n) return undefined;
    return fact(input.dims.map((d, i) => (i < n ? d : undefined)), input.origins.map((o, i) => (i < n ? o : c.node.id)));
  };
}

// ───────────────────────────── rearranging ─────────────────────────────

function flatten(input: ShapeFact | undefined, start: Sym | undefined, end: Sym | undefined, node: number): ShapeFact | undefined {
  if (!input) return undefined;
  const rank = input.dims.length;
  if (rank === 0) return madeBy([symConst(1)], node);
  const s = normalizeDim(start, rank);
  const e = normalizeDim(end, rank);
  if (s === undefined || e === undefined || s > e) return undefined;
  if (s === e) return input;
  return fact(
    [...input.dims.slice(0, s), mulAll(input.dims.slice(s, e + 1)), ...input.dims.slice(e + 1)],
    [...input.origins.slice(0, s), node, ...input.origins.slice(e + 1)],
  );
}

/** `x.size(k)`, `x.size()[k]`, `x.shape[k]` of the receiver itself. */
function receiverDim(text: string, receiver: string | undefined): number | undefined {
  if (!receiver) return undefined;
  const esc = receiver.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`^${esc}\\s*\\.\\s*(?:size\\(\\s*(\\d+)\\s*\\)|size\\(\\s*\\)\\s*\\[\\s*(\\d+)\\s*\\]|shape\\s*\\[\\s*(\\d+)\\s*\\])$`).exec(text.trim());
  return m ? Number(m[1] ?? m[2] ?? m[3]) : undefined;
}

function viewEntries(args: readonly ExtraArg[], receiver: string | undefined): ViewEntry[] | undefined {
  const list = args.length === 1 && args[0].kind === "tuple" ? args[0].items : args;
  if (list.length === 0) return undefined;
  const entries: ViewEntry[] = [];
  for (const a of list) {
    if (a.kind === "num") entries.push(constValue(a.sym) === -1 ? { kind: "infer" } : { kind: "size", sym: a.sym });
    else if ((a.kind === "dims" && a.dims.index !== undefined) || a.kind === "size") entries.push({ kind: "unknown" }); // a size read at run time
    else if (a.kind === "other") {
      const d = receiverDim(a.text, receiver);
      // A single non-number argument may be a whole shape (`x.view(shape)`): its rank is unknown.
      if (d === undefined && list.length === 1) return undefined;
      entries.push(d === undefined ? { kind: "unknown" } : { kind: "inputDim", index: d });
    } else return undefined;
  }
  return entries;
}

function reshapeWith(input: ShapeFact | undefined, args: readonly ExtraArg[], receiver: string | undefined, node: number): ShapeFact | undefined {
  const entries = viewEntries(args, receiver);
  if (!entries) return undefined;
  if (input && entries.some((e) => e.kind === "inputDim" && e.index >= input.dims.length)) return undefined;
  return viewShape(input, entries, node);
}

function squeeze(input: ShapeFact | undefined, dim: ExtraArg | undefined): ShapeFact | undefined {
  if (!input) return undefined;
  const rank = input.dims.length;
  const isOne = (i: number): boolean | undefined => {
    const c = input.dims[i] ? constValue(input.dims[i]!) : undefined;
    return c === undefined ? undefined : c === 1;
  };
  if (dim === undefined) {
    const ones = input.dims.map((_, i) => isOne(i));
    if (ones.some((o) => o === undefined)) return undefined;
    return fact(input.dims.filter((_, i) => !ones[i]), input.origins.filter((_, i) => !ones[i]));
  }
  const d = normalizeDim(extraSym(dim), rank);
  if (d === undefined) return undefined;
  const one = isOne(d);
  if (one === undefined) return undefined;
  return one ? fact(input.dims.filter((_, i) => i !== d), input.origins.filter((_, i) => i !== d)) : input;
}

function unsqueeze(input: ShapeFact | undefined, dim: ExtraArg | undefined, node: number): ShapeFact | undefined {
  if (!input) return undefined;
  const d = normalizeDim(extraSym(dim), input.dims.length, 1);
  if (d === undefined) return undefined;
  return fact([...input.dims.slice(0, d), symConst(1), ...input.dims.slice(d)], [...input.origins.slice(0, d), node, ...input.origins.slice(d)]);
}

function transpose(input: ShapeFact | undefined, a: ExtraArg | undefined, b: ExtraArg | undefined): ShapeFact | undefined {
  if (!input) return undefined;
  const rank = input.dims.length;
  const i = normalizeDim(extraSym(a), rank);
  const j = normalizeDim(extraSym(b), rank);
  if (i === undefined || j === undefined) return undefined;
  const dims = [...input.dims];
  const origins = [...input.origins];
  [dims[i], dims[j]] = [dims[j], dims[i]];
  [origins[i], origins[j]] = [origins[j], origins[i]];
  return fact(dims, origins);
}

function permute(input: ShapeFact | undefined, args: readonly ExtraArg[]): ShapeFact | undefined {
  if (!input) return undefined;
  const list = args.length === 1 && args[0].kind === "tuple" ? args[0].items : args;
  const rank = input.dims.length;
  if (list.length !== rank) return undefined;
  const order = list.map((a) => normalizeDim(extraSym(a), rank));
  if (order.some((o) => o === undefined) || new Set(order).size !== rank) return undefined;
  return fact(order.map((o) => input.dims[o!]), order.map((o) => input.origins[o!]));
}

/** `mean`/`sum` over some dims, keeping them as 1 with `keepdim=True`. */
function reduce(input: ShapeFact | undefined, dim: ExtraArg | undefined, keep: ExtraArg | undefined, node: number): ShapeFact | undefined {
  if (!input) return undefined;
  const keepdim = extraFlag(keep, false);
  if (keepdim === undefined) return undefined;
  const rank = input.dims.length;
  if (dim === undefined) return keepdim ? madeBy(input.dims.map(() => symConst(1)), node) : fact([], []);
  const list = dim.kind === "tuple" ? dim.items : [dim];
  const ds = list.map((a) => normalizeDim(extraSym(a), rank));
  if (ds.some((d) => d === undefined)) return undefined;
  const set = new Set(ds as number[]);
  if (keepdim) return fact(input.dims.map((d, i) => (set.has(i) ? symConst(1) : d)), input.origins.map((o, i) => (set.has(i) ? node : o)));
  return fact(input.dims.filter((_, i) => !set.has(i)), input.origins.filter((_, i) => !set.has(i)));
}

/** `torch.cat(tensors, dim)`: sizes along `dim` add up (the channels of Inception/DenseNet branches). */
function concat(c: OpContext, stack: boolean): ShapeFact | undefined {
  const list = c.arg(0, "tensors");
  if (list?.kind !== "tuple" || list.items.length === 0) return undefined;
  const parts = list.items.map((a) => (a.kind === "tensor" ? c.shapeOf(a.node) : undefined));
  if (parts.some((p) => !p)) return undefined;
  const shapes = parts as ShapeFact[];
  const rank = shapes[0].dims.length;
  if (shapes.some((s) => s.dims.length !== rank)) return undefined;
  const d = normalizeDim(extraSym(c.arg(1, "dim")) ?? (c.arg(1, "dim") === undefined ? symConst(0) : undefined), rank, stack ? 1 : 0);
  if (d === undefined) return undefined;
  // Other dims must match (or PyTorch raises): take each from whichever input knows it.
  const other = (i: number): [Sym | undefined, number | undefined] => {
    const s = shapes.find((p) => p.dims[i] !== undefined);
    return [s?.dims[i], s?.origins[i]];
  };
  const dims: (Sym | undefined)[] = [];
  const origins: (number | undefined)[] = [];
  for (let i = 0; i < rank; i++) {
    if (!stack && i === d) {
      let total: Sym | undefined = symConst(0);
      for (const s of shapes) total = total && s.dims[i] ? symAdd(total, s.dims[i]!) : undefined;
      dims.push(total);
      origins.push(c.node.id);
      continue;
    }
    const [dim, origin] = other(i);
    dims.push(dim);
    origins.push(origin);
  }
  if (stack) {
    dims.splice(d, 0, symConst(shapes.length));
    origins.splice(d, 0, c.node.id);
  }
  return fact(dims, origins);
}

/** `a + b` and friends: broadcasting; a number operand keeps the tensor's shape. */
function elementwise(a: ExtraArg | undefined, b: ExtraArg | undefined, c: OpContext): ShapeFact | undefined {
  const shapeOrScalar = (x: ExtraArg | undefined): ShapeFact | "scalar" | undefined => {
    if (x?.kind === "num") return "scalar";
    if (x?.kind === "tensor") return c.shapeOf(x.node);
    return undefined;
  };
  const sa = shapeOrScalar(a);
  const sb = shapeOrScalar(b);
  if (sa === "scalar") return sb === "scalar" ? undefined : sb;
  if (sb === "scalar") return sa;
  if (!sa || !sb) return undefined;
  return broadcast(sa, sb);
}

// ───────────────────────────── tables ─────────────────────────────

const ACTIVATION_AND_NORM_MODULES = [
  "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
  "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm",
  "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Identity",
  "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
  "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "Softsign", "Tanhshrink", "LogSigmoid", "Threshold",
  "Softmax", "LogSoftmax", "Softmax2d",
];

export const MODULE_SHAPES: ReadonlyMap<string, ShapeFn> = new Map<string, ShapeFn>([
  ...ACTIVATION_AND_NORM_MODULES.map((n) => [`torch.nn.${n}`, preserveModule] as const),
  ...[1, 2, 3].flatMap((k) => [
    [`torch.nn.Conv${k}d`, conv(k, "conv")] as const,
    [`torch.nn.LazyConv${k}d`, conv(k, "lazy")] as const,
    [`torch.nn.ConvTranspose${k}d`, conv(k, "transpose")] as const,
    [`torch.nn.MaxPool${k}d`, maxPoolModule(k)] as const,
    [`torch.nn.AvgPool${k}d`, avgPoolModule(k)] as const,
    [`torch.nn.AdaptiveAvgPool${k}d`, adaptive(k, (c) => c.ctor(0, "output_size"), moduleInput, () => false)] as const,
    [`torch.nn.AdaptiveMaxPool${k}d`, adaptive(k, (c) => c.ctor(0, "output_size"), moduleInput, (c) => valueFlag(c.ctor(1, "return_indices"), false))] as const,
  ]),
  ["torch.nn.Linear", linear(1)],
  ["torch.nn.LazyLinear", linear(0)],
  ["torch.nn.Flatten", (c) => flatten(moduleInput(c), valueSym(c.ctor(0, "start_dim")) ?? (c.ctor(0, "start_dim") ? undefined : symConst(1)), valueSym(c.ctor(1, "end_dim")) ?? (c.ctor(1, "end_dim") ? undefined : symConst(-1)), c.node.id)],
  ["torch.nn.Upsample", keepLeading(2)],
  ["torch.nn.UpsamplingNearest2d", keepLeading(2)],
  ["torch.nn.UpsamplingBilinear2d", keepLeading(2)],
]);

const PRESERVING_FUNCTIONS = [
  ...["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "selu", "celu", "gelu", "silu", "mish", "hardswish", "hardsigmoid",
    "hardtanh", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "normalize", "local_response_norm", "prelu", "logsigmoid", "threshold"]
    .map((n) => `torch.nn.functional.${n}`),
  ...["relu", "relu_", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "clamp", "clip", "exp", "log", "abs", "neg", "sqrt",
    "square", "batch_norm", "layer_norm", "group_norm", "instance_norm"].map((n) => `torch.${n}`),
  "operator.neg", "operator.pos",
];

const BINARY_FUNCTIONS = [
  "operator.add", "operator.sub", "operator.mul", "operator.truediv", "torch.add", "torch.sub", "torch.mul", "torch.div",
  "torch.maximum", "torch.minimum",
];

export const FUNCTION_SHAPES: ReadonlyMap<string, ShapeFn> = new Map<string, ShapeFn>([
  ...PRESERVING_FUNCTIONS.map((n) => [n, preserveFirst] as const),
  ...BINARY_FUNCTIONS.map((n) => [n, (c: OpContext) => elementwise(c.arg(0), c.arg(1, "other"), c)] as const),
  ...[1, 2, 3].flatMap((k) => [
    [`torch.nn.functional.max_pool${k}d`, maxPoolFunction(k)] as const,
    [`torch.nn.functional.avg_pool${k}d`, avgPoolFunction(k)] as const,
    [`torch.nn.functional.adaptive_avg_pool${k}d`, adaptive(k, (c) => c.arg(1, "output_size"), firstTensor, () => false)] as const,
    [`torch.nn.functional.adaptive_max_pool${k}d`, adaptive(k, (c) => c.arg(1, "output_size"), firstTensor, (c) => extraFlag(c.arg(2, "return_indices"), false))] as const,
  ]),
  ["torch.flatten", (c) => flatten(firstTensor(c), c.arg(1, "start_dim") ? extraSym(c.arg(1, "start_dim")) : symConst(0), c.arg(2, "end_dim") ? extraSym(c.arg(2, "end_dim")) : symConst(-1), c.node.id)],
  ["torch.reshape", (c) => reshapeWith(firstTensor(c), [c.arg(1, "shape")].filter((a): a is ExtraArg => !!a), undefined, c.node.id)],
  ["torch.squeeze", (c) => squeeze(firstTensor(c), c.arg(1, "dim"))],
  ["torch.unsqueeze", (c) => unsqueeze(firstTensor(c), c.arg(1, "dim"), c.node.id)],
  ["torch.transpose", (c) => transpose(firstTensor(c), c.arg(1, "dim0"), c.arg(2, "dim1"))],
  ["torch.permute", (c) => permute(firstTensor(c), [c.arg(1, "dims")].filter((a): a is ExtraArg => !!a))],
  ["torch.mean", (c) => reduce(firstTensor(c), c.arg(1, "dim"), c.arg(2, "keepdim"), c.node.id)],
  ["torch.sum", (c) => reduce(firstTensor(c), c.arg(1, "dim"), c.arg(2, "keepdim"), c.node.id)],
  ["torch.cat", (c) => concat(c, false)],
  ["torch.concat", (c) => concat(c, false)],
  ["torch.concatenate", (c) => concat(c, false)],
  ["torch.stack", (c) => concat(c, true)],
  ["builtins.sum", (c) => {
    const parts = c.node.inputs.map((i) => c.shapeOf(i));
    return parts.length > 0 && parts.every((p) => p) ? parts.slice(1).reduce((a, b) => broadcast(a!, b!), parts[0]) : undefined;
  }],
  ["torch.nn.functional.interpolate", (c) => { const s = firstTensor(c); return s && s.dims.length > 2 ? fact(s.dims.map((d, i) => (i < 2 ? d : undefined)), s.origins.map((o, i) => (i < 2 ? o : c.node.id))) : undefined; }],
]);

const PRESERVING_METHODS = [
  "contiguous", "float", "double", "half", "bfloat16", "to", "cpu", "cuda", "type", "clone", "detach", "relu", "relu_", "sigmoid",
  "sigmoid_", "tanh", "tanh_", "softmax", "log_softmax", "exp", "exp_", "log", "abs", "abs_", "neg", "sqrt", "clamp", "clamp_",
  "clamp_min", "requires_grad_", "mul_", "add_", "sub_", "div_", "masked_fill", "masked_fill_", "fill_", "zero_", "normal_",
];

const methodArgs = (c: OpContext): ExtraArg[] => (c.node.extra?.args ?? []).slice(1);

export const METHOD_SHAPES: ReadonlyMap<string, ShapeFn> = new Map<string, ShapeFn>([
  ...PRESERVING_METHODS.map((n) => [n, (c: OpContext) => c.shapeOf(c.node.inputs[0])] as const),
  ...["add", "sub", "mul", "div", "__add__", "__mul__"].map((n) => [n, (c: OpContext) => elementwise({ kind: "tensor", node: c.node.inputs[0] }, c.arg(0, "other"), c)] as const),
  ["view", (c) => reshapeWith(c.shapeOf(c.node.inputs[0]), methodArgs(c), c.receiverText, c.node.id)],
  ["reshape", (c) => reshapeWith(c.shapeOf(c.node.inputs[0]), methodArgs(c), c.receiverText, c.node.id)],
  ["flatten", (c) => flatten(c.shapeOf(c.node.inputs[0]), c.arg(0, "start_dim") ? extraSym(c.arg(0, "start_dim")) : symConst(0), c.arg(1, "end_dim") ? extraSym(c.arg(1, "end_dim")) : symConst(-1), c.node.id)],
  ["squeeze", (c) => squeeze(c.shapeOf(c.node.inputs[0]), c.arg(0, "dim"))],
  ["unsqueeze", (c) => unsqueeze(c.shapeOf(c.node.inputs[0]), c.arg(0, "dim"), c.node.id)],
  ["transpose", (c) => transpose(c.shapeOf(c.node.inputs[0]), c.arg(0, "dim0"), c.arg(1, "dim1"))],
  ["t", (c) => { const s = c.shapeOf(c.node.inputs[0]); return s && s.dims.length <= 2 ? fact([...s.dims].reverse(), [...s.origins].reverse()) : undefined; }],
  ["permute", (c) => permute(c.shapeOf(c.node.inputs[0]), methodArgs(c))],
  ["mean", (c) => reduce(c.shapeOf(c.node.inputs[0]), c.arg(0, "dim"), c.arg(1, "keepdim"), c.node.id)],
  ["sum", (c) => reduce(c.shapeOf(c.node.inputs[0]), c.arg(0, "dim"), c.arg(1, "keepdim"), c.node.id)],
  ...["view_as", "reshape_as", "expand_as"].map((n) => [n, (c: OpContext) => { const o = c.arg(0, "other"); return o?.kind === "tensor" ? c.shapeOf(o.node) : undefined; }] as const),
]);



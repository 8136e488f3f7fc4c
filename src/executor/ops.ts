/**
 * The operator table: what each graph node computes. Module calls dispatch on the module type, function and
 * method calls on their qualified name. Anything not listed stops execution with the construct's name.
 */
import type { GraphNode } from "../model/graph.js";
import type { ModuleInstance } from "../model/values.js";
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, cf, logicalShape, physicalAxis, toCF, toCL } from "./act.js";
import { batchNorm, type BatchNormCall, TorchError } from "./batchnorm.js";
import { groupNorm, instanceNorm, layerNorm } from "./norms.js";
import { adaptivePool, conv, type ConvSpec, convTranspose2d, linear, pool, resize } from "./layers.js";
import { ModuleArgs, NotExecutable, NotExecutableShape } from "./module-config.js";
import { NodeArgs } from "./node-args.js";
import { IN_PLACE_METHOD } from "../model/knowledge.js";
import type { BatchNormState, LayerParams } from "./params.js";
import { chunk, indexTensor, narrow, partAt, split, unbind } from "./indexing.js";
import { expand, flip, pad, pixelShuffle, pixelUnshuffle, repeat, roll, stack } from "./rearrange.js";
import { RECURRENT_TYPES, recurrentConfig, runRecurrent } from "./recurrent.js";

export interface OpContext {
  readonly tf: Tf;
  readonly batch: number;
  readonly bnCall: BatchNormCall;
  layer(inst: ModuleInstance): { params: LayerParams; weight: Tensor };
  /** Parameters by PyTorch's name, for recurrent layers. */
  named(inst: ModuleInstance): Map<string, Tensor>;
  batchNormState(node: GraphNode, inst: ModuleInstance): BatchNormState;
  value(id: number): Act;
  /** The parts of a tuple-valued node (`x.chunk(2, 1)`), or undefined for a tensor. */
  parts(id: number): readonly Act[] | undefined;
  /** The graph node that computes a value. */
  producer(id: number): GraphNode | undefined;
  /** Set on recorded training passes: every BatchNorm call's running-statistics update. */
  onBatchStats?: (node: GraphNode, inst: ModuleInstance, mean: Float32Array, biasedVar: Float32Array, n: number) => void;
  /** Convolution and BatchNorm nodes whose only consumer is a ReLU: their kernel applies it (see `fusibleRelus`). */
  readonly reluFused?: ReadonlySet<number>;
}

/** Whether a node is a plain ReLU (module, function or method) of its first input. */
export function isPlainRelu(node: GraphNode): boolean {
  if (node.inputs.length !== 1) return false;
  if (node.op === "call_module") return node.instance?.qualname === "torch.nn.ReLU";
  if (node.op === "call_function") return FUNCTION_ACTIVATIONS[node.target] === "relu" && node.extra?.args.length === 1;
  if (node.op === "call_method") return METHOD_ACTIVATIONS[node.target] === "relu";
  return false;
}

type Unary = (tf: Tf, t: Tensor) => Tensor;

// PyTorch's softplus switches to the identity above 20 (its `threshold`), where log1p(exp(x)) equals x in float32.
const torchSoftplus: Unary = (tf, t) => tf.where(tf.greater(t, 20), t, tf.softplus(t));

const ACTIVATIONS: Record<string, Unary> = {
  relu: (tf, t) => tf.relu(t),
  relu6: (tf, t) => tf.relu6(t),
  sigmoid: (tf, t) => tf.sigmoid(t),
  tanh: (tf, t) => tf.tanh(t),
  elu: (tf, t) => tf.elu(t),
  selu: (tf, t) => tf.selu(t),
  silu: (tf, t) => tf.mul(t, tf.sigmoid(t)),
  gelu: (tf, t) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2)))),
  hardswish: (tf, t) => tf.div(tf.mul(t, tf.relu6(tf.add(t, 3))), 6),
  hardsigmoid: (tf, t) => tf.div(tf.relu6(tf.add(t, 3)), 6),
  softplus: torchSoftplus,
  mish: (tf, t) => tf.mul(t, tf.tanh(torchSoftplus(tf, t))),
  logsigmoid: (tf, t) => tf.logSigmoid(t),
  softsign: (tf, t) => tf.div(t, tf.add(1, tf.abs(t))),
  tanhshrink: (tf, t) => tf.sub(t, tf.tanh(t)),
  exp: (tf, t) => tf.exp(t),
  log: (tf, t) => tf.log(t),
  abs: (tf, t) => tf.abs(t),
  neg: (tf, t) => tf.neg(t),
  sqrt: (tf, t) => tf.sqrt(t),
  square: (tf, t) => tf.square(t),
  identity: (_tf, t) => t,
};

const MODULE_ACTIVATIONS: Record<string, string> = {
  ReLU: "relu", ReLU6: "relu6", Sigmoid: "sigmoid", Tanh: "tanh", ELU: "elu", SELU: "selu", SiLU: "silu", GELU: "gelu",
  Hardswish: "hardswish", Hardsigmoid: "hardsigmoid", Softplus: "softplus", Mish: "mish", LogSigmoid: "logsigmoid",
  Softsign: "softsign", Tanhshrink: "tanhshrink", Identity: "identity",
  // Dropout is the identity while confirming: its randomness would hide BatchNorm's effect (documented).
  Dropout: "identity", Dropout1d: "identity", Dropout2d: "identity", Dropout3d: "identity", AlphaDropout: "identity",
};

const FUNCTION_ACTIVATIONS: Record<string, string> = {
  "torch.relu": "relu", "torch.nn.functional.relu": "relu", "torch.nn.functional.relu6": "relu6", "torch.sigmoid": "sigmoid",
  "torch.nn.functional.sigmoid": "sigmoid", "torch.tanh": "tanh", "torch.nn.functional.tanh": "tanh", "torch.nn.functional.elu": "elu",
  "torch.nn.functional.selu": "selu", "torch.nn.functional.silu": "silu", "torch.nn.functional.gelu": "gelu",
  "torch.nn.functional.hardswish": "hardswish", "torch.nn.functional.hardsigmoid": "hardsigmoid", "torch.nn.functional.mish": "mish",
  "torch.nn.functional.logsigmoid": "logsigmoid", "torch.nn.functional.softsign": "softsign", "torch.nn.functional.tanhshrink": "tanhshrink", "torch.nn.functional.dropout": "identity", "torch.nn.functional.dropout2d": "identity",
  "torch.dropout": "identity", "torch.nn.functional.relu_": "relu", "torch.relu_": "relu", "torch.exp": "exp", "torch.log": "log",
  "torch.abs": "abs", "torch.neg": "neg", "torch.sqrt": "sqrt", "torch.square": "square", "torch.nn.functional.softplus": "softplus",
};

const METHOD_ACTIVATIONS: Record<string, string> = {
  relu: "relu", sigmoid: "sigmoid", tanh: "tanh", contiguous: "identity", clone: "identity", detach: "identity", float: "identity",
  relu_: "relu", sigmoid_: "sigmoid", tanh_: "tanh", exp: "exp", exp_: "exp", log: "log", abs: "abs", abs_: "abs", neg: "neg",
  sqrt: "sqrt", requires_grad_: "identity",
  // Device and dtype moves: the executor computes in float32 on the CPU throughout.
  to: "identity", cpu: "identity", cuda: "identity", double: "identity", half: "identity", bfloat16: "identity", type: "identity",
};

function sameLayout(tf: Tf, a: Act, t: Tensor): Act {
  return { t, cl: a.cl };
}

/** Flattens logical dims start..end into one. */
function flatten(tf: Tf, x: Act, start: number, end: number): Act {
  const t = toCF(tf, x);
  const r = t.rank;
  const s = start < 0 ? start + r : start;
  const e = end < 0 ? end + r : end;
  const shape = t.shape;
  const mid = shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return cf(tf.reshape(t, [...shape.slice(0, s), mid, ...shape.slice(e + 1)]));
}

function reshape(tf: Tf, x: Act, dims: number[], node: GraphNode): Act {
  const t = toCF(tf, x);
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = dims.filter((d) => d === -1).length;
  if (free > 1 || (free === 0 && known !== t.size) || (free === 1 && (known === 0 || t.size % known !== 0))) {
    throw new NotExecutableShape(`shape '[${dims.join(", ")}]' is invalid for input of size ${t.size}`, node);
  }
  return cf(tf.reshape(t, dims));
}

export { NotExecutableShape };

function softmaxLike(tf: Tf, x: Act, dim: number, log: boolean): Act {
  const axis = physicalAxis(x, dim);
  const lse = tf.logSumExp(x.t, axis, true);
  const y = tf.sub(x.t, lse);
  return sameLayout(tf, x, log ? y : tf.exp(y));
}

/** PyTorch's broadcasting rule, with its message, so a mismatch reads as PyTorch would report it. */
function checkBroadcast(a: number[], b: number[], node: GraphNode): void {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const [x, y] = [a[a.length - i], b[b.length - i]];
    if (x !== y && x !== 1 && y !== 1) {
      throw new NotExecutableShape(`The size of tensor a (${x}) must match the size of tensor b (${y}) at non-singleton dimension ${Math.max(a.length, b.length) - i}`, node);
    }
  }
}

function binary(tf: Tf, name: string, a: Act | number, b: Act | number, line: number): Act {
  const fns: Record<string, (x: Tensor | number, y: Tensor | number) => Tensor> = {
    add: (x, y) => tf.add(x as Tensor, y as Tensor),
    sub: (x, y) => tf.sub(x as Tensor, y as Tensor),
    mul: (x, y) => tf.mul(x as Tensor, y as Tensor),
    truediv: (x, y) => tf.div(x as Tensor, y as Tensor),
    maximum: (x, y) => tf.maximum(x as Tensor, y as Tensor),
    minimum: (x, y) => tf.minimum(x as Tensor, y as Tensor),
  };
  const fn = fns[name];
  if (!fn) throw new NotExecutable(`operator \`${name}\``, line);
  if (typeof a === "number" && typeof b === "number") throw new NotExecutable(`operator \`${name}\` on numbers`, line);
  if (typeof a === "number") return sameLayout(tf, b as Act, fn(tf.scalar(a), (b as Act).t));
  if (typeof b === "number") return sameLayout(tf, a, fn(a.t, tf.scalar(b)));
  if (a.t.rank === b.t.rank && a.t.rank >= 3 && (a.cl || b.cl)) return { t: fn(toCL(tf, a), toCL(tf, b)), cl: true };
  return cf(fn(toCF(tf, a), toCF(tf, b)));
}

function cat(tf: Tf, xs: Act[], dim: number, node: GraphNode): Act {
  if (xs.length === 0) throw new NotExecutable("`torch.cat` of an empty list", node.range.start.line);
  const shapes = xs.map(logicalShape);
  const r = shapes[0].length;
  const d = dim < 0 ? dim + r : dim;
  for (const s of shapes) {
    if (s.length !== r || s.some((v, i) => i !== d && v !== shapes[0][i])) {
      throw new NotExecutableShape(`Sizes of tensors must match except in dimension ${d}. Expected size ${shapes[0].filter((_, i) => i !== d).join(", ")} but got size ${s.filter((_, i) => i !== d).join(", ")}`, node);
    }
  }
  if (r >= 3 && xs.every((x) => x.cl)) return { t: tf.concat(xs.map((x) => x.t), physicalAxis(xs[0], d)), cl: true };
  return cf(tf.concat(xs.map((x) => toCF(tf, x)), d));
}

export function runModule(ctx: OpContext, node: GraphNode, inst: ModuleInstance, type: string, x: Act): Act {
  const { tf } = ctx;
  const line = node.range.start.line;
  // An in-file BatchNorm subclass with a forward or __init__ of its own (an activation after it, batch statistics
  // always, other defaults) may compute something else than the base class: not run, rather than run as a plain one.
  if (inst.overrides?.length) throw new NotExecutable(`\`${inst.definedBy?.name ?? type}\`, a BatchNorm subclass with its own \`${inst.overrides.join("` and `")}\``, line);
  // SyncBatchNorm as one process runs it: BatchNorm over the local batch.
  if (/^BatchNorm[123]d$/.test(type) || type === "SyncBatchNorm") {
    const record = ctx.onBatchStats;
    let call: BatchNormCall = record ? { ...ctx.bnCall, onBatchStats: (m: Float32Array, v: Float32Array, n: number) => record(node, inst, m, v, n) } : ctx.bnCall;
    if (ctx.reluFused?.has(node.id)) call = { ...call, relu: true };
    return batchNorm(tf, x, type, ctx.batchNormState(node, inst), call);
  }
  const args = new ModuleArgs(inst, type);
  const activation = MODULE_ACTIVATIONS[type];
  if (activation) {
    requireDefaults(args, ACTIVATION_DEFAULTS[type], line);
    return sameLayout(tf, x, ACTIVATIONS[activation](tf, x.t));
  }
  const convMatch = /^Conv([123])d$/.exec(type);
  if (convMatch) {
    const rank = Number(convMatch[1]) as 1 | 2 | 3;
    if (args.get("padding_mode", "zeros") !== "zeros") throw new NotExecutable(`\`${type}\` with padding_mode other than zeros`, line);
    const padArg = args.get("padding", 0);
    const padding = padArg === "same" || padArg === "valid" ? padArg : args.ints("padding", rank, 0);
    const { params, weight } = ctx.layer(inst);
    const spec: ConvSpec = { rank, stride: args.ints("stride", rank, 1), padding, dilation: args.ints("dilation", rank, 1), groups: args.number("groups", 1), line, relu: ctx.reluFused?.has(node.id) };
    return conv(tf, x, params, weight, spec, type);
  }
  if (type === "Linear") {
    const { params, weight } = ctx.layer(inst);
    return linear(tf, x, params, weight);
  }
  if (type === "ConvTranspose2d") {
    if (args.number("groups", 1) !== 1 || args.ints("dilation", 2, 1).some((d) => d !== 1)) throw new NotExecutable(`\`${type}\` with groups or dilation`, line);
    if (args.get("padding_mode", "zeros") !== "zeros") throw new NotExecutable(`\`${type}\` with padding_mode other than zeros`, line);
    const { params, weight } = ctx.layer(inst);
    return convTranspose2d(tf, x, params, weight, { stride: args.ints("stride", 2, 1), padding: args.ints("padding", 2, 0), outputPadding: args.ints("output_padding", 2, 0), line }, type);
  }
  const poolMatch = /^(Max|Avg)Pool([123])d$/.exec(type);
  if (poolMatch) {
    const rank = Number(poolMatch[2]) as 1 | 2 | 3;
    const kernel = args.ints("kernel_size", rank);
    const strideArg = args.get("stride", null);
    if (poolMatch[1] === "Max" && (args.bool("return_indices", false) || args.ints("dilation", rank, 1).some((d) => d !== 1))) throw new NotExecutable(`\`${type}\` with dilation or return_indices`, line);
    if (args.get("divisor_override", null) !== null) throw new NotExecutable(`\`${type}(divisor_override=…)\``, line);
    return pool(tf, x, {
      kind: poolMatch[1] === "Max" ? "max" : "avg",
      rank,
      kernel,
      stride: strideArg === null ? kernel : args.ints("stride", rank),
      padding: args.ints("padding", rank, 0),
      ceilMode: args.bool("ceil_mode", false),
      countIncludePad: args.bool("count_include_pad", true),
      line,
    }, type);
  }
  const adaptive = /^Adaptive(Max|Avg)Pool([12])d$/.exec(type);
  if (adaptive) {
    const rank = Number(adaptive[2]) as 1 | 2;
    const out = args.get("output_size");
    const sizes = typeof out === "number" ? Array(rank).fill(out) : (out as (number | null)[]);
    return adaptivePool(tf, x, adaptive[1] === "Max" ? "max" : "avg", rank, sizes, type, line);
  }
  if (type === "LeakyReLU") return sameLayout(tf, x, tf.leakyRelu(x.t, args.number("negative_slope", 0.01)));
  if (type === "Hardtanh") return sameLayout(tf, x, tf.clipByValue(x.t, args.number("min_val", -1), args.number("max_val", 1)));
  if (type === "CELU") {
    const alpha = args.number("alpha", 1);
    return sameLayout(tf, x, tf.add(tf.relu(x.t), tf.minimum(0, tf.mul(alpha, tf.sub(tf.exp(tf.div(x.t, alpha)), 1)))));
  }
  if (type === "LayerNorm") {
    const shapeArg = args.get("normalized_shape");
    const normalized = typeof shapeArg === "number" ? [shapeArg] : (shapeArg as number[]);
    if (!Array.isArray(normalized) || normalized.some((d) => typeof d !== "number")) throw new NotExecutable(`\`${type}\` with a normalized_shape bnlint cannot read`, line);
    return layerNorm(tf, x, normalized, args.number("eps", 1e-5));
  }
  if (type === "GroupNorm") return groupNorm(tf, x, args.number("num_groups"), args.number("num_channels"), args.number("eps", 1e-5));
  const instance = /^InstanceNorm([123])d$/.exec(type);
  if (instance) {
    if (args.bool("track_running_stats", false)) throw new NotExecutable(`\`${type}(track_running_stats=True)\``, line);
    return instanceNorm(tf, x, Number(instance[1]), args.number("eps", 1e-5));
  }
  if (type === "Upsample") {
    const size = args.get("size", null);
    const scale = args.get("scale_factor", null);
    const pair = (v: unknown): number[] => (typeof v === "number" ? [v, v] : (v as number[]));
    return resize(tf, x, { size: size === null ? undefined : pair(size), scale: scale === null ? undefined : pair(scale), mode: String(args.get("mode", "nearest")), alignCorners: args.bool("align_corners", false), line }, type);
  }
  if (type === "PReLU") {
    // One slope per channel (dim 1), or one for all: with channels last, both broadcast over the last axis.
    const { weight } = ctx.layer(inst);
    const t = x.t.rank >= 3 ? toCL(tf, x) : x.t;
    if (weight.size !== 1 && t.shape[t.rank - 1] !== weight.size) throw new TorchError("RuntimeError", `Mismatch of parameter numbers and input channel size. Found parameter numbers = ${weight.size} and channel size = ${logicalShape(x)[1]}.`);
    return { t: tf.prelu(t, weight), cl: x.t.rank >= 3 };
  }
  if (type === "Flatten") return flatten(tf, x, args.number("start_dim", 1), args.number("end_dim", -1));
  if (type === "PixelShuffle") return pixelShuffle(tf, x, args.number("upscale_factor"), node);
  if (type === "Embedding") return embedding(tf, x, ctx.layer(inst).weight, node);
  if (RECURRENT_TYPES.has(type)) {
    const weights = ctx.named(inst);
    const states = node.inputs.slice(1).map((id) => ctx.value(id));
    return runRecurrent(tf, recurrentConfig(args, inst.ctorRange.start.line), x, (name) => weights.get(name), node, states);
  }
  const padModule = /^(Reflection|Zero|Constant)Pad([12])d$/.exec(type);
  if (padModule) {
    // `padding`: one amount for every side, or (left, right[, top, bottom]).
    const sides = 2 * Number(padModule[2]);
    const amounts = args.get("padding");
    const list = typeof amounts === "number" ? Array(sides).fill(amounts) : (amounts as number[]);
    const value = padModule[1] === "Constant" ? args.number("value") : 0;
    return pad(tf, x, list, padModule[1] === "Reflection" ? "reflect" : "constant", value, node);
  }
  if (type === "PixelUnshuffle") return pixelUnshuffle(tf, x, args.number("downscale_factor"), node);
  if (type === "Softmax" || type === "LogSoftmax") {
    const dim = args.get("dim", null);
    if (typeof dim !== "number") throw new NotExecutable(`\`${type}()\` without \`dim\``, line);
    return softmaxLike(tf, x, dim, type === "LogSoftmax");
  }
  throw new NotExecutable(`module \`${type}\` (the executor does not implement it)`, line);
}

export function runFunction(ctx: OpContext, node: GraphNode): Act {
  const { tf } = ctx;
  const line = node.range.start.line;
  const name = node.target;
  const a = new NodeArgs(node, ctx.batch, 0, (id) => logicalShape(ctx.value(id)));
  const input = (): Act => ctx.value(node.inputs[0]);
  const activation = FUNCTION_ACTIVATIONS[name];
  if (activation) {
    // `F.elu(x, alpha=2.0)`, `F.softplus(x, beta=2)`: the kernels above compute the defaults only.
    if ((name.endsWith(".elu") || name.endsWith(".softplus")) && (a.positionalCount > 1 || [...(node.extra?.kwargs.keys() ?? [])].some((k) => k !== "inplace"))) {
      throw new NotExecutable(`\`${name}\` with arguments other than the input`, line);
    }
    return sameLayout(tf, input(), ACTIVATIONS[activation](tf, input().t));
  }
  switch (name) {
    case "torch.nn.functional.interpolate":
    case "torch.nn.functional.upsample": {
      const size = a.ints(1, "size", 2, null);
      const scale = a.get(2, "scale_factor", null);
      if (size === null && scale === null) throw new NotExecutable("`interpolate` without `size` or `scale_factor`", line);
      const scales = scale === null ? undefined : typeof scale === "number" ? [scale, scale] : (scale as number[]);
      return resize(tf, input(), { size: size ?? undefined, scale: scales, mode: a.string(3, "mode", "nearest"), alignCorners: a.bool(4, "align_corners", false), line }, "interpolate");
    }
    case "operator.add":
    case "operator.sub":
    case "operator.mul":
    case "operator.truediv":
    case "torch.add":
    case "torch.sub":
    case "torch.mul":
    case "torch.div": {
      const op = name.endsWith("div") ? "truediv" : name.slice(name.lastIndexOf(".") + 1);
      const operand = (i: number): Act | number => {
        const arg = node.extra?.args[i];
        if (arg?.kind === "tensor") return ctx.value(arg.node);
        const n = a.numberAt(i);
        if (n === undefined) throw new NotExecutable(`an operand of \`${op}\` with no known value`, line);
        return n;
      };
      const [x, y] = [operand(0), operand(1)];
      if (typeof x !== "number" && typeof y !== "number") checkBroadcast(logicalShape(x), logicalShape(y), node);
      return binary(tf, op, x, y, line);
    }
    case "operator.matmul":
    case "torch.matmul":
    case "torch.mm":
    case "torch.bmm": {
      const [x, y] = [a.tensors(0, "input")[0], a.tensors(1, "other")[0]];
      if (x === undefined || y === undefined) throw new NotExecutable(`\`${name}\` of a value bnlint does not follow as a tensor`, line);
      return matmul(tf, ctx.value(x), ctx.value(y), node);
    }
    case "torch.max":
    case "torch.min": {
      const fn = name.slice(6) as "max" | "min";
      const second = node.extra?.args[1];
      // torch.max(a, b): elementwise, as torch.maximum.
      if (second?.kind === "tensor") {
        const [x, y] = [input(), ctx.value(second.node)];
        checkBroadcast(logicalShape(x), logicalShape(y), node);
        return binary(tf, fn === "max" ? "maximum" : "minimum", x, y, line);
      }
      const t = toCF(tf, input());
      // torch.max(x): the largest value; torch.max(x, dim): the values of (values, indices).
      if (!a.has(1, "dim")) return cf(fn === "max" ? tf.max(t) : tf.min(t));
      const dim = a.number(1, "dim");
      const axis = dim < 0 ? dim + t.rank : dim;
      const keep = a.bool(2, "keepdim", false);
      return cf(fn === "max" ? tf.max(t, axis, keep) : tf.min(t, axis, keep));
    }
    case "torch.maximum":
    case "torch.minimum": {
      const [x, y] = [ctx.value(a.tensors(0, "input")[0]), ctx.value(a.tensors(1, "other")[0])];
      checkBroadcast(logicalShape(x), logicalShape(y), node);
      return binary(tf, name.slice(6), x, y, line);
    }
    case "torch.clamp":
    case "torch.clip":
      return clamp(tf, input(), a, 1);
    case "torch.nn.functional.layer_norm": {
      if (given(a, 2, "weight") || given(a, 3, "bias")) throw new NotExecutable("`F.layer_norm` with weight or bias", line);
      const shape = a.get(1, "normalized_shape");
      return layerNorm(tf, input(), typeof shape === "number" ? [shape] : (shape as number[]), a.number(4, "eps", 1e-5));
    }
    case "torch.nn.functional.group_norm": {
      if (given(a, 2, "weight") || given(a, 3, "bias")) throw new NotExecutable("`F.group_norm` with weight or bias", line);
      return groupNorm(tf, input(), a.number(1, "num_groups"), logicalShape(input())[1], a.number(4, "eps", 1e-5));
    }
    case "torch.nn.functional.instance_norm": {
      if ([1, 2, 3, 4].some((i) => given(a, i, ["running_mean", "running_var", "weight", "bias"][i - 1]))) throw new NotExecutable("`F.instance_norm` with running statistics, weight or bias", line);
      return instanceNorm(tf, input(), logicalShape(input()).length - 2, a.number(7, "eps", 1e-5));
    }
    case "torch.nn.functional.normalize":
      return normalizeP(tf, input(), a.number(1, "p", 2), a.number(2, "dim", 1), a.number(3, "eps", 1e-12), node);
    case "torch.sum":
      return reduceSum(tf, input(), a, 1);
    case "torch.amax":
    case "torch.amin":
      return extremum(tf, input(), a, 1, name === "torch.amax");
    case "operator.neg":
      return sameLayout(tf, input(), tf.neg(input().t));
    case "operator.pos":
      return input();
    case "torch.transpose":
      return swapDims(tf, input(), a.number(1, "dim0"), a.number(2, "dim1"), node);
    case "torch.permute": {
      const dims = a.get(1, "dims");
      if (!Array.isArray(dims)) throw new NotExecutable("`torch.permute` without a tuple of dims", line);
      return permuteDims(tf, input(), dims, node);
    }
    case "torch.flatten":
      return flatten(tf, input(), a.number(1, "start_dim", 0), a.number(2, "end_dim", -1));
    case "torch.reshape":
      return reshape(tf, input(), a.rest(1), node);
    case "torch.cat":
    case "torch.concat":
      // `torch.cat(x, 1)` with a tensor (not a list of tensors) is PyTorch's TypeError: leave it to PyTorch.
      if (node.extra?.args[0]?.kind === "tensor") throw new NotExecutable("`torch.cat` of a value bnlint sees as one tensor", line);
      if (a.arg(0, "tensors")?.kind !== "tuple") throw new NotExecutable("`torch.cat` of a sequence bnlint cannot follow", line);
      return cat(tf, a.tensors(0, "tensors").map((id) => ctx.value(id)), a.number(1, "dim", 0), node);
    case "torch.softmax":
    case "torch.nn.functional.softmax":
    case "torch.log_softmax":
    case "torch.nn.functional.log_softmax":
      return softmaxLike(tf, input(), a.number(1, "dim"), name.includes("log_"));
    case "torch.nn.functional.leaky_relu":
      return sameLayout(tf, input(), tf.leakyRelu(input().t, a.number(1, "negative_slope", 0.01)));
    case "torch.nn.functional.max_pool1d":
    case "torch.nn.functional.avg_pool1d":
    case "torch.nn.functional.max_pool2d":
    case "torch.nn.functional.avg_pool2d":
    case "torch.nn.functional.max_pool3d":
    case "torch.nn.functional.avg_pool3d":
    case "torch.max_pool1d":
    case "torch.avg_pool1d":
    case "torch.max_pool2d":
    case "torch.avg_pool2d":
    case "torch.max_pool3d": {
      const rank = Number(/([123])d$/.exec(name)![1]) as 1 | 2 | 3;
      const kernel = a.ints(1, "kernel_size", rank)!;
      const stride = a.ints(2, "stride", rank, null) ?? kernel;
      const kind = name.includes("max") ? "max" : "avg";
      if (a.has(4, kind === "max" ? "dilation" : "ceil_mode") && kind === "max" && a.ints(4, "dilation", rank, 1)!.some((d) => d !== 1)) throw new NotExecutable(`\`${name}\` with dilation`, line);
      // avg_pool: (input, kernel_size, stride, padding, ceil_mode, count_include_pad)
      const countIncludePad = kind === "max" || a.get(5, "count_include_pad", 1) === 1;
      return pool(tf, input(), { kind, rank, kernel, stride, padding: a.ints(3, "padding", rank, 0)!, ceilMode: kind === "max" ? a.get(5, "ceil_mode", 0) === 1 : a.get(4, "ceil_mode", 0) === 1, countIncludePad, line }, name);
    }
    case "torch.nn.functional.adaptive_avg_pool1d":
    case "torch.nn.functional.adaptive_max_pool1d":
    case "torch.nn.functional.adaptive_avg_pool2d":
    case "torch.nn.functional.adaptive_max_pool2d": {
      const rank = name.endsWith("1d") ? 1 : 2;
      const out = a.get(1, "output_size");
      const sizes = typeof out === "number" ? Array(rank).fill(out) : (out as (number | null)[]);
      return adaptivePool(tf, input(), name.includes("max") ? "max" : "avg", rank, sizes, name, line);
    }
    case "torch.mean":
      return mean(tf, input(), a, 1);
    case "operator.getitem": {
      const [base, ...keys] = node.extra?.args ?? [];
      if (base?.kind !== "tensor") throw new NotExecutable("indexing of a value bnlint does not follow as a tensor", line);
      const parts = ctx.parts(base.node);
      if (parts) {
        if (keys.length !== 1) throw new NotExecutable("indexing a tuple of tensors with more than one index", line);
        return partAt(parts, keys[0], a, node);
      }
      return indexTensor(tf, ctx.value(base.node), keys, a, node);
    }
    case "torch.nn.functional.pad": {
      const amounts = a.get(1, "pad");
      if (!Array.isArray(amounts)) throw new NotExecutable("`F.pad` without a list of amounts", line);
      return pad(tf, input(), amounts, a.string(2, "mode", "constant"), (a.get(3, "value", null) as number | null) ?? 0, node);
    }
    case "torch.stack":
      if (a.arg(0, "tensors")?.kind !== "tuple") throw new NotExecutable("`torch.stack` of a sequence bnlint cannot follow", line);
      return stack(tf, a.tensors(0, "tensors").map((id) => ctx.value(id)), a.number(1, "dim", 0), node);
    case "torch.pixel_shuffle":
    case "torch.nn.functional.pixel_shuffle":
      return pixelShuffle(tf, input(), a.number(1, "upscale_factor"), node);
    case "torch.pixel_unshuffle":
    case "torch.nn.functional.pixel_unshuffle":
      return pixelUnshuffle(tf, input(), a.number(1, "downscale_factor"), node);
    case "torch.chunk":
      return chunk(tf, input(), a.number(1, "chunks"), a.number(2, "dim", 0), node);
    case "torch.split":
      return split(tf, input(), a.get(1, "split_size_or_sections") as number | number[], a.number(2, "dim", 0), node);
    case "torch.unbind":
      return unbind(tf, input(), a.number(1, "dim", 0), node);
    case "torch.narrow":
      return narrow(tf, input(), a.number(1, "dim"), a.number(2, "start"), a.number(3, "length"), node);
    case "torch.flip":
      return flip(tf, input(), listOf(a.get(1, "dims")), node);
    case "torch.roll":
      return roll(tf, input(), listOf(a.get(1, "shifts")), listOf(requireDims(a.get(2, "dims", null), line)), node);
    case "operator.pow":
    case "torch.pow":
      return power(tf, operandOf(ctx, a, 0, "pow"), operandOf(ctx, a, 1, "pow"), node);
    case "torch.zeros_like":
    case "torch.ones_like":
      return sameLayout(tf, input(), name.endsWith("zeros_like") ? tf.zerosLike(input().t) : tf.onesLike(input().t));
    case "torch.norm":
      return norm(tf, input(), a, 1, node);
    // Constants written with NumPy (PointNet's identity: `torch.from_numpy(np.array([1, 0, 0, ...]).astype(...))`).
    case "numpy.array":
    case "numpy.asarray": {
      const values = a.get(0, "object");
      if (!Array.isArray(values) || values.some((v) => typeof v !== "number")) throw new NotExecutable(`\`${name}\` of anything but a flat list of numbers`, line);
      return cf(tf.tensor1d(values as number[]));
    }
    case "numpy.eye":
    case "numpy.identity":
      return cf(tf.eye(a.number(0, "N")));
    case "torch.from_numpy":
    case "torch.autograd.Variable":
    case "torch.autograd.variable.Variable":
      return input(); // the same values: float32 here, with no autograd wrapper
    case "torch.zeros":
    case "torch.ones": {
      // The size: positional numbers or one tuple (`size=` too); dtype and device do not matter here.
      const sizes = a.positionalCount > 0 ? a.rest(0) : listOf(a.get(0, "size"));
      return cf(name === "torch.zeros" ? tf.zeros(sizes) : tf.ones(sizes));
    }
    case "torch.diagonal":
      return diagonal(tf, input(), a.number(1, "offset", 0), node);
    case "torch.squeeze":
      return squeeze(tf, input(), a.get(1, "dim", null) as number | null);
    case "torch.unsqueeze":
      return cf(tf.expandDims(toCF(tf, input()), a.number(1, "dim")));
  }
  throw new NotExecutable(`\`${name}\` (the executor does not implement it)`, line);
}

/** `squeeze(x)` drops every size-1 dimension; `squeeze(x, dim)` drops `dim` if its size is 1, else keeps `x`. */
function squeeze(tf: Tf, x: Act, dim: number | null): Act {
  const t = toCF(tf, x);
  if (dim === null) return cf(tf.squeeze(t));
  const axis = dim < 0 ? dim + t.rank : dim;
  return cf(t.shape[axis] === 1 ? tf.squeeze(t, [axis]) : t);
}

/** `x.permute(dims)` on the logical (PyTorch) layout, with PyTorch's error for a wrong number of dims. */
function permuteDims(tf: Tf, x: Act, dims: number[], node: GraphNode): Act {
  const t = toCF(tf, x);
  const perm = dims.map((d) => (d < 0 ? d + t.rank : d));
  if (perm.length !== t.rank || new Set(perm).size !== t.rank || perm.some((d) => d < 0 || d >= t.rank)) {
    throw new NotExecutableShape(`permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${t.rank} is not equal to len(dims) = ${dims.length}`, node);
  }
  return cf(tf.transpose(t, perm));
}

/** `x.transpose(a, b)`: swaps two logical dimensions. */
function swapDims(tf: Tf, x: Act, d0: number, d1: number, node: GraphNode): Act {
  const rank = logicalShape(x).length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  const [a, b] = [d0 < 0 ? d0 + rank : d0, d1 < 0 ? d1 + rank : d1];
  if (a < 0 || b < 0 || a >= rank || b >= rank) throw new NotExecutableShape(`Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${a < 0 || a >= rank ? d0 : d1})`, node);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permuteDims(tf, x, perm, node);
}

function mean(tf: Tf, x: Act, a: NodeArgs, index: number): Act {
  const dims = a.get(index, "dim", null);
  const keep = a.bool(index + 1, "keepdim", false);
  const t = toCF(tf, x);
  const axes = dims === null ? undefined : typeof dims === "number" ? [dims] : dims;
  return cf(tf.mean(t, axes, keep));
}

/**
 * `a @ b` for tensors of rank 2 or more with equal leading (batch) dimensions, with PyTorch's error for
 * mismatched inner sizes; vectors and broadcast batches are not run.
 */
function matmul(tf: Tf, x: Act, y: Act, node: GraphNode): Act {
  const [sx, sy] = [logicalShape(x), logicalShape(y)];
  if (sx.length < 2 || sy.length < 2 || sx.length !== sy.length || sx.slice(0, -2).some((d, i) => d !== sy[i])) {
    throw new NotExecutable(`a matrix product of shapes [${sx.join(", ")}] and [${sy.join(", ")}]`, node.range.start.line);
  }
  const [k1, k2] = [sx[sx.length - 1], sy[sy.length - 2]];
  if (k1 !== k2) {
    const rows = sx.slice(0, -1).reduce((p, d) => p * d, 1);
    throw new NotExecutableShape(sx.length === 2 ? `mat1 and mat2 shapes cannot be multiplied (${rows}x${k1} and ${k2}x${sy[sy.length - 1]})` : `Expected size for first two dimensions of batch2 tensor to be: [${sx.slice(0, -2).join(", ")}, ${k1}] but got: [${sy.slice(0, -1).join(", ")}].`, node);
  }
  return cf(tf.matMul(toCF(tf, x), toCF(tf, y)));
}

/** Constructor arguments that the activation kernels hard-code, with PyTorch's defaults. */
const ACTIVATION_DEFAULTS: Record<string, Record<string, number>> = { ELU: { alpha: 1 }, Softplus: { beta: 1, threshold: 20 } };

function requireDefaults(args: ModuleArgs, defaults: Record<string, number> | undefined, line: number): void {
  for (const [name, value] of Object.entries(defaults ?? {})) {
    if (args.has(name) && args.get(name) !== value) throw new NotExecutable(`\`${args.type}(${name}=…)\` other than ${value}`, line);
  }
}

/** An argument passed and not `None`. */
function given(a: NodeArgs, index: number, keyword: string): boolean {
  if (!a.has(index, keyword)) return false;
  try {
    return a.get(index, keyword, null) !== null;
  } catch {
    return true; // a tensor or another value without a number: passed
  }
}

/** `clamp(x, min, max)` / `x.clamp(min, max)`: either bound may be missing or None. */
function clamp(tf: Tf, x: Act, a: NodeArgs, index: number): Act {
  const lo = a.get(index, "min", null);
  const hi = a.get(index + 1, "max", null);
  if ((lo !== null && typeof lo !== "number") || (hi !== null && typeof hi !== "number")) throw new NotExecutable("`clamp` with tensor bounds", a.node.range.start.line);
  return sameLayout(tf, x, tf.clipByValue(x.t, lo ?? -Infinity, hi ?? Infinity));
}

function reduceSum(tf: Tf, x: Act, a: NodeArgs, index: number): Act {
  const dims = a.get(index, "dim", null);
  const keep = a.bool(index + 1, "keepdim", false);
  const axes = dims === null ? undefined : typeof dims === "number" ? [dims] : (dims as number[]);
  return cf(tf.sum(toCF(tf, x), axes, keep));
}

/** `amax`/`amin`: the largest or smallest value over `dim` (every dimension when it is left out or `()`). */
function extremum(tf: Tf, x: Act, a: NodeArgs, index: number, largest: boolean): Act {
  const dims = a.get(index, "dim", null);
  const keep = a.bool(index + 1, "keepdim", false);
  const axes = dims === null || (Array.isArray(dims) && dims.length === 0) ? undefined : typeof dims === "number" ? [dims] : (dims as number[]);
  const t = toCF(tf, x);
  return cf(largest ? tf.max(t, axes, keep) : tf.min(t, axes, keep));
}

/** `F.normalize`: x / max(‖x‖_p over `dim`, eps). */
function normalizeP(tf: Tf, x: Act, p: number, dim: number, eps: number, node: GraphNode): Act {
  const t = toCF(tf, x);
  const axis = dim < 0 ? dim + t.rank : dim;
  if (axis < 0 || axis >= t.rank) throw new NotExecutableShape(`Dimension out of range (expected to be in range of [${-t.rank}, ${t.rank - 1}], but got ${dim})`, node);
  const norm = p === 2 ? tf.sqrt(tf.sum(tf.square(t), axis, true)) : tf.pow(tf.sum(tf.pow(tf.abs(t), p), axis, true), 1 / p);
  return cf(tf.div(t, tf.maximum(norm, eps)));
}

/** Operations whose result shares its input's storage in PyTorch: an in-place change to it changes the input. */
const VIEW_METHODS = new Set(["view", "view_as", "reshape", "reshape_as", "t", "transpose", "permute", "expand", "expand_as", "unsqueeze", "squeeze", "flatten", "narrow", "diagonal", "unbind", "chunk", "split", "contiguous"]);
const VIEW_FUNCTIONS = new Set(["operator.getitem", "torch.diagonal", "torch.narrow", "torch.transpose", "torch.permute", "torch.flatten", "torch.squeeze", "torch.unsqueeze", "torch.reshape", "torch.chunk", "torch.split", "torch.unbind"]);

export function runMethod(ctx: OpContext, node: GraphNode): Act {
  const { tf } = ctx;
  const line = node.range.start.line;
  const receiver = ctx.producer(node.inputs[0]);
  if (IN_PLACE_METHOD.test(node.target) && receiver && (VIEW_METHODS.has(receiver.target) || VIEW_FUNCTIONS.has(receiver.target))) {
    // `torch.diagonal(c).add_(-1)` also changes `c` in PyTorch; the executor's values do not share storage.
    throw new NotExecutable(`\`.${node.target}()\` on a view of another tensor (\`${receiver.target}\`)`, line);
  }
  const x = ctx.value(node.inputs[0]);
  const a = new NodeArgs(node, ctx.batch, 1, (id) => logicalShape(ctx.value(id)));
  const activation = METHOD_ACTIVATIONS[node.target];
  if (activation) return sameLayout(tf, x, ACTIVATIONS[activation](tf, x.t));
  switch (node.target) {
    case "view":
    case "reshape":
      return reshape(tf, x, a.rest(0), node);
    case "flatten":
      return flatten(tf, x, a.number(0, "start_dim", 0), a.number(1, "end_dim", -1));
    case "softmax":
    case "log_softmax":
      return softmaxLike(tf, x, a.number(0, "dim"), node.target === "log_softmax");
    case "mean":
      return mean(tf, x, a, 0);
    case "amax":
    case "amin":
      return extremum(tf, x, a, 0, node.target === "amax");
    case "sum":
      return reduceSum(tf, x, a, 0);
    case "clamp":
    case "clamp_":
    case "clip":
      return clamp(tf, x, a, 0);
    case "clamp_min":
      return sameLayout(tf, x, tf.maximum(x.t, a.number(0, "min")));
    case "add":
    case "sub":
    case "mul":
    case "div":
    case "add_":
    case "sub_":
    case "mul_":
    case "div_":
    case "__add__":
    case "__mul__": {
      const op = node.target.replace(/_/g, "").replace("div", "truediv");
      const arg = node.extra?.args[1];
      const y = arg?.kind === "tensor" ? ctx.value(arg.node) : a.numberAt(0);
      if (y === undefined) throw new NotExecutable(`an operand of \`.${node.target}()\` with no known value`, line);
      if (typeof y !== "number") checkBroadcast(logicalShape(x), logicalShape(y), node);
      return binary(tf, op, x, y, line);
    }
    case "matmul":
    case "mm":
    case "bmm":
    case "__matmul__": {
      const other = a.tensors(0, "other")[0];
      if (other === undefined) throw new NotExecutable(`\`.${node.target}()\` of a value bnlint does not follow as a tensor`, line);
      return matmul(tf, x, ctx.value(other), node);
    }
    case "t": {
      const t = toCF(tf, x);
      if (t.rank > 2) throw new NotExecutableShape(`t() expects a tensor with <= 2 dimensions, but self is ${t.rank}D`, node);
      return cf(t.rank === 2 ? tf.transpose(t) : t);
    }
    case "view_as":
    case "reshape_as":
    case "expand_as": {
      const other = a.tensors(0, "other")[0];
      const shape = logicalShape(ctx.value(other));
      return cf(node.target === "expand_as" ? tf.broadcastTo(toCF(tf, x), shape) : tf.reshape(toCF(tf, x), shape));
    }
    case "squeeze":
      return squeeze(tf, x, a.get(0, "dim", null) as number | null);
    case "unsqueeze":
      return cf(tf.expandDims(toCF(tf, x), a.number(0, "dim")));
    case "max":
    case "min": {
      // With `dim`, PyTorch returns (values, indices); the graph records the values (`.values`, `[0]`).
      if (!a.has(0, "dim")) throw new NotExecutable(`\`.${node.target}()\` without \`dim\``, line);
      const dim = a.number(0, "dim");
      const t = toCF(tf, x);
      const axis = dim < 0 ? dim + t.rank : dim;
      const keep = a.bool(1, "keepdim", false);
      return cf(node.target === "max" ? tf.max(t, axis, keep) : tf.min(t, axis, keep));
    }
    case "transpose":
      return swapDims(tf, x, a.number(0, "dim0"), a.number(1, "dim1"), node);
    case "permute":
      return permuteDims(tf, x, a.rest(0), node);
    case "chunk":
      return chunk(tf, x, a.number(0, "chunks"), a.number(1, "dim", 0), node);
    case "split":
      return split(tf, x, a.get(0, "split_size") as number | number[], a.number(1, "dim", 0), node);
    case "unbind":
      return unbind(tf, x, a.number(0, "dim", 0), node);
    case "narrow":
      return narrow(tf, x, a.number(0, "dim"), a.number(1, "start"), a.number(2, "length"), node);
    case "flip":
      return flip(tf, x, a.positionalCount > 0 ? a.rest(0) : listOf(a.get(0, "dims")), node);
    case "roll":
      return roll(tf, x, listOf(a.get(0, "shifts")), listOf(requireDims(a.get(1, "dims", null), line)), node);
    case "expand":
      return expand(tf, x, a.rest(0), node);
    case "repeat":
      return repeat(tf, x, a.rest(0), node);
    case "pow":
    case "pow_":
    case "__pow__":
      return power(tf, x, operandOf(ctx, a, 0, "pow"), node);
    case "norm":
      return norm(tf, x, a, 0, node);
    case "type_as":
    case "astype":
      return x; // the executor computes in float32 only, so the cast changes nothing
  }
  throw new NotExecutable(`method \`.${node.target}()\` (the executor does not implement it)`, line);
}

function listOf(v: unknown): number[] {
  return typeof v === "number" ? [v] : (v as number[]);
}

/** `roll` without `dims` rolls the flattened tensor: not run. */
function requireDims(v: unknown, line: number): unknown {
  if (v === null) throw new NotExecutable("`roll` without `dims`", line);
  return v;
}

/** Argument `i` of an arithmetic call: a computed tensor or a known number. */
function operandOf(ctx: OpContext, a: NodeArgs, i: number, op: string): Act | number {
  const arg = a.arg(i, i === 0 ? "input" : "exponent");
  if (arg?.kind === "tensor") return ctx.value(arg.node);
  const n = a.numberAt(i);
  if (n === undefined) throw new NotExecutable(`an operand of \`${op}\` with no known value`, a.node.range.start.line);
  return n;
}

/** `x ** p`, `x.pow(p)`, `torch.pow(x, p)`, `2 ** x`, with PyTorch's broadcasting error for two tensors. */
function power(tf: Tf, x: Act | number, y: Act | number, node: GraphNode): Act {
  if (typeof x === "number" && typeof y === "number") throw new NotExecutable("`pow` on numbers", node.range.start.line);
  if (typeof x === "number") return sameLayout(tf, y as Act, tf.pow(tf.scalar(x), (y as Act).t));
  if (typeof y === "number") return sameLayout(tf, x, tf.pow(x.t, tf.scalar(y)));
  checkBroadcast(logicalShape(x), logicalShape(y), node);
  return cf(tf.pow(toCF(tf, x), toCF(tf, y)));
}

/** `x.norm(p=2, dim=None, keepdim=False)`: the p-norm over `dim`, or over the whole tensor. */
function norm(tf: Tf, x: Act, a: NodeArgs, index: number, node: GraphNode): Act {
  const p = a.get(index, "p", 2);
  if (typeof p !== "number") throw new NotExecutable("`norm` with a `p` other than a number", node.range.start.line);
  const dims = a.get(index + 1, "dim", null);
  const keep = a.bool(index + 2, "keepdim", false);
  const t = toCF(tf, x);
  const axes = dims === null ? undefined : typeof dims === "number" ? [dims] : dims;
  const summed = p === 2 ? tf.sqrt(tf.sum(tf.square(t), axes, keep)) : tf.pow(tf.sum(tf.pow(tf.abs(t), p), axes, keep), 1 / p);
  return cf(summed);
}

/** `torch.diagonal(x, offset)` of a matrix: the entries x[i, i + offset], gathered from the flat matrix. */
function diagonal(tf: Tf, x: Act, offset: number, node: GraphNode): Act {
  const t = toCF(tf, x);
  if (t.rank !== 2) throw new NotExecutable(`\`torch.diagonal\` of a ${t.rank}-d tensor`, node.range.start.line);
  const [rows, cols] = t.shape as [number, number];
  const first = offset >= 0 ? offset : -offset * cols; // flat index of the diagonal's first entry
  const length = Math.max(0, offset >= 0 ? Math.min(rows, cols - offset) : Math.min(rows + offset, cols));
  const indices = Array.from({ length }, (_, i) => first + i * (cols + 1));
  return cf(tf.gather(tf.reshape(t, [rows * cols]), tf.tensor1d(indices, "int32")));
}

/** `nn.Embedding`: each id's row; ids outside the table are PyTorch's IndexError. */
function embedding(tf: Tf, ids: Act, weight: Tensor, node: GraphNode): Act {
  const t = toCF(tf, ids);
  const count = weight.shape[0]!;
  const values = t.dataSync();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isInteger(values[i])) throw new NotExecutable("`Embedding` of values that are not token ids", node.range.start.line);
    if (values[i] < 0 || values[i] >= count) throw new NotExecutableShape("index out of range in self", node, "IndexError");
  }
  return cf(tf.gather(weight, tf.cast(t, "int32")));
}

/**
 * Parameters and BatchNorm state, initialised as PyTorch does by default: Kaiming-uniform (a = √5) conv and
 * linear weights, which is U(-1/√fan_in, 1/√fan_in), the same bound for biases; BatchNorm weight 1, bias 0,
 * running mean 0, running variance 1. Each module draws from its own generator seeded by its path, so a
 * module's weights do not depend on which other modules exist (the fixed model shares them).
 */
import type { ModuleInstance } from "../model/values.js";
import { shortName } from "../model/knowledge.js";
import { ModuleArgs, NotExecutable } from "./module-config.js";
import { Rng } from "./rng.js";
import { RECURRENT_TYPES, initRecurrentParams, recurrentConfig } from "./recurrent.js";

export interface LayerParams {
  weight?: Float32Array;
  /** PyTorch layout: `[out, in / groups, k…]` for convolutions, `[out, in]` for Linear. */
  weightShape?: number[];
  bias?: Float32Array;
  /** Parameters by PyTorch's name, for modules with more than a weight and a bias (`weight_ih_l0`). */
  named?: Map<string, { values: Float32Array; shape: number[] }>;
}

export interface BatchNormState {
  numFeatures: number;
  eps: number;
  /** null: cumulative moving average (PyTorch's `momentum=None`). */
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  weight?: Float32Array;
  bias?: Float32Array;
  runningMean?: Float32Array;
  runningVar?: Float32Array;
  numBatchesTracked: number;
}

export const BATCHNORM_RANKS: Record<string, number[]> = { BatchNorm1d: [2, 3], BatchNorm2d: [4], BatchNorm3d: [5] };

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function moduleType(inst: ModuleInstance): string {
  return inst.qualname ? shortName(inst.qualname) : inst.userClass?.name ?? inst.ctorText;
}

function instanceKey(inst: ModuleInstance): string {
  return inst.paths[0] ?? `#${inst.id}`;
}

export function newBatchNormState(inst: ModuleInstance): BatchNormState {
  const args = new ModuleArgs(inst, moduleType(inst));
  const c = args.number("num_features");
  if (!Number.isInteger(c) || c <= 0) throw new NotExecutable(`\`${moduleType(inst)}(${c})\` has no valid feature count`, inst.ctorRange.start.line);
  const momentum = args.get("momentum", 0.1);
  if (momentum !== null && typeof momentum !== "number") throw new NotExecutable(`\`${moduleType(inst)}\` momentum is not a number`, inst.ctorRange.start.line);
  const affine = args.bool("affine", true);
  const track = args.bool("track_running_stats", true);
  return {
    numFeatures: c,
    eps: args.number("eps", 1e-5),
    momentum,
    affine,
    trackRunningStats: track,
    weight: affine ? new Float32Array(c).fill(1) : undefined,
    bias: affine ? new Float32Array(c) : undefined,
    runningMean: track ? new Float32Array(c) : undefined,
    runningVar: track ? new Float32Array(c).fill(1) : undefined,
    numBatchesTracked: 0,
  };
}

/** Layers larger than this are not run: the arguments (often bnlint's defaults) make the model too big. */
const MAX_LAYER_WEIGHTS = 1 << 26;

function kaimingUniform(rng: Rng, shape: number[], fanIn: number, hasBias: boolean, outputs = shape[0]): LayerParams {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!(size <= MAX_LAYER_WEIGHTS)) throw new NotExecutable(`a layer of ${size.toLocaleString("en-US")} weights (more than bnlint runs; set the model's arguments with --model-args)`);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  const weight = rng.uniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -bound, bound);
  const bias = hasBias ? rng.uniform(new Float32Array(outputs), -bound, bound) : undefined;
  return { weight, weightShape: shape, bias };
}

/** All the layers of a model together hold at most this many weights: beyond, the run would not fit in memory. */
export const MAX_MODEL_WEIGHTS = 1 << 26;

/** How many weights a module's layer holds, read off its arguments without allocating them (0 when unknown). */
export function weightCount(inst: ModuleInstance): number {
  const type = moduleType(inst);
  const args = new ModuleArgs(inst, type);
  try {
    const conv = /^Conv(?:Transpose)?([123])d$/.exec(type);
    if (conv) {
      const kernel = args.ints("kernel_size", Number(conv[1]));
      return (args.number("in_channels") * args.number("out_channels") / args.number("groups", 1)) * kernel.reduce((a, b) => a * b, 1);
    }
    if (type === "Linear") return args.number("in_features") * args.number("out_features");
    if (type === "Embedding") return args.number("num_embeddings") * args.number("embedding_dim");
    if (RECURRENT_TYPES.has(type)) {
      const c = recurrentConfig(args, inst.ctorRange.start.line);
      const gates = c.kind === "LSTM" ? 4 : c.kind === "GRU" ? 3 : 1;
      return c.layers * c.directions * gates * c.hidden * (Math.max(c.inputSize, c.hidden * c.directions) + c.hidden);
    }
  } catch (e) {
    if (!(e instanceof NotExecutable)) throw e;
  }
  return 0;
}

/** Weights of a conv or linear layer; undefined for modules without parameters the executor knows. */
export function initLayerParams(inst: ModuleInstance, seed: number): LayerParams | undefined {
  const type = moduleType(inst);
  const rng = new Rng(seed ^ hash(instanceKey(inst)));
  const args = new ModuleArgs(inst, type);
  const conv = /^Conv([123])d$/.exec(type);
  if (conv) {
    const rank = Number(conv[1]);
    const cin = args.number("in_channels");
    const cout = args.number("out_channels");
    const groups = args.number("groups", 1);
    const kernel = args.ints("kernel_size", rank);
    if (cin % groups !== 0 || cout % groups !== 0) throw new NotExecutable(`\`${type}\` with channels not divisible by groups`, inst.ctorRange.start.line);
    const fanIn = (cin / groups) * kernel.reduce((a, b) => a * b, 1);
    return kaimingUniform(rng, [cout, cin / groups, ...kernel], fanIn, args.bool("bias", true));
  }
  if (type === "ConvTranspose2d") {
    // PyTorch's weight is [in, out / groups, kh, kw]; its fan-in is read off dimension 1.
    const [cin, cout, groups] = [args.number("in_channels"), args.number("out_channels"), args.number("groups", 1)];
    const kernel = args.ints("kernel_size", 2);
    if (cin % groups !== 0 || cout % groups !== 0) throw new NotExecutable(`\`${type}\` with channels not divisible by groups`, inst.ctorRange.start.line);
    return kaimingUniform(rng, [cin, cout / groups, ...kernel], (cout / groups) * kernel[0] * kernel[1], args.bool("bias", true), cout);
  }
  if (type === "PReLU") {
    const n = args.number("num_parameters", 1);
    return { weight: new Float32Array(n).fill(args.number("init", 0.25)), weightShape: [n] };
  }
  if (type === "Linear") {
    const fin = args.number("in_features");
    return kaimingUniform(rng, [args.number("out_features"), fin], fin, args.bool("bias", true));
  }
  if (RECURRENT_TYPES.has(type)) return { named: initRecurrentParams(recurrentConfig(args, inst.ctorRange.start.line), rng) };
  if (type === "Embedding") {
    // N(0, 1), PyTorch's default; the padding row starts at zero.
    const [count, dim] = [args.number("num_embeddings"), args.number("embedding_dim")];
    if (args.get("max_norm", null) !== null) throw new NotExecutable("`Embedding(max_norm=…)` (it renormalises rows in place)", inst.ctorRange.start.line);
    if (!(count * dim <= MAX_LAYER_WEIGHTS)) throw new NotExecutable(`a layer of ${(count * dim).toLocaleString("en-US")} weights (more than bnlint runs; set the model's arguments with --model-args)`);
    const weight = rng.normal(new Float32Array(count * dim));
    const pad = args.get("padding_idx", null);
    if (typeof pad === "number") weight.fill(0, ((pad + count) % count) * dim, ((pad + count) % count) * dim + dim);
    return { weight, weightShape: [count, dim] };
  }
  return undefined;
}

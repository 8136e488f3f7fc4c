/** Convolution, linear and pooling layers on channels-last tensors, with PyTorch's shape errors. */
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, logicalShape, toCF, toCL } from "./act.js";
import { TorchError } from "./batchnorm.js";
import { NotExecutable } from "./module-config.js";
import type { LayerParams } from "./params.js";

export interface ConvSpec {
  rank: 1 | 2 | 3;
  stride: number[];
  padding: number[] | "same" | "valid";
  dilation: number[];
  groups: number;
  line: number;
  /** Apply a ReLU to the output (the graph's next node, which then does not run). */
  relu?: boolean;
}

/** A rank-1 tensor `[N, L, C]` is run as `[N, 1, L, C]`, so one 2-d kernel serves both. */
function as2d(tf: Tf, t: Tensor, rank: number): Tensor {
  return rank === 1 ? tf.expandDims(t, 1) : t;
}

function from2d(tf: Tf, t: Tensor, rank: number): Act {
  return { t: rank === 1 ? tf.squeeze(t, [1]) : t, cl: true };
}

/** A rank-1 spec on the `[N, 1, L, C]` view: `fill` for the dummy height (1 for kernel/stride, 0 for padding). */
function pair(v: number[], rank: number, fill = 1): [number, number] {
  return rank === 1 ? [fill, v[0]] : [v[0], v[1]];
}

/**
 * Filter in tfjs layout `[kh, kw, in/groups, out]` from PyTorch's `[out, in/groups, (kh,) kw]`; for 3-d
 * convolutions `[kd, kh, kw, in, out]` from `[out, in, kd, kh, kw]`.
 */
export function convFilter(tf: Tf, p: LayerParams, rank: number): Tensor {
  const [out, inG, ...k] = p.weightShape!;
  if (rank === 3) return tf.transpose(tf.tensor5d(p.weight!, [out, inG, k[0], k[1], k[2]]), [2, 3, 4, 1, 0]);
  const [kh, kw] = rank === 1 ? [1, k[0]] : [k[0], k[1]];
  return tf.transpose(tf.tensor4d(p.weight!, [out, inG, kh, kw]), [2, 3, 1, 0]);
}

export function conv(tf: Tf, x: Act, p: LayerParams, filter: Tensor, spec: ConvSpec, type: string): Act {
  const shape = logicalShape(x);
  const [out, inG, ...kernel] = p.weightShape!;
  const cin = inG * spec.groups;
  if (shape.length !== spec.rank + 2) {
    throw new TorchError("RuntimeError", `Expected ${spec.rank + 1}D (unbatched) or ${spec.rank + 2}D (batched) input to ${type.toLowerCase()}, but got input of size: [${shape.join(", ")}]`);
  }
  if (shape[1] !== cin) {
    throw new TorchError("RuntimeError", `Given groups=${spec.groups}, weight of size [${p.weightShape!.join(", ")}], expected input[${shape.join(", ")}] to have ${cin} channels, but got ${shape[1]} channels instead`);
  }
  const pad = spec.padding;
  const spatial = shape.slice(2);
  if (Array.isArray(pad)) {
    const padded = spatial.map((s, i) => s + 2 * pad[i]);
    const effective = kernel.map((k, i) => spec.dilation[i] * (k - 1) + 1);
    if (padded.some((s, i) => s < effective[i])) {
      throw new TorchError("RuntimeError", `Calculated padded input size per channel: (${padded.join(" x ")}). Kernel size: (${effective.join(" x ")}). Kernel size can't be greater than actual input size`);
    }
  }
  if (spec.stride.some((s) => s > 1) && spec.dilation.some((d) => d > 1)) throw new NotExecutable(`\`${type}\` with both stride and dilation`, spec.line);
  if (spec.rank === 3) {
    const y = conv3d(tf, x, p, filter, spec, type);
    return spec.relu ? { ...y, t: tf.relu(y.t) } : y;
  }
  const t = as2d(tf, toCL(tf, x), spec.rank);
  const strides = pair(spec.stride, spec.rank);
  const dilations = pair(spec.dilation, spec.rank);
  const tfPad = Array.isArray(pad) ? explicitPad(pair(pad, spec.rank, 0)) : pad;
  // The fused kernels add the bias (and a following ReLU) inside the convolution, in XNNPACK's output pass,
  // rather than in passes of their own.
  const bias = p.bias ? tf.tensor1d(p.bias) : undefined;
  const activation = spec.relu ? "relu" : "linear";
  let y: Tensor;
  if (spec.groups === 1) {
    y = tf.fused.conv2d({ x: t as never, filter: filter as never, strides, pad: tfPad as never, dataFormat: "NHWC", dilations, bias, activation });
  } else if (spec.groups === cin && inG === 1) {
    // Depthwise: PyTorch output channel i*m + j is tfjs's channel i, multiplier j.
    const dw = tf.reshape(filter, [filter.shape[0]!, filter.shape[1]!, cin, out / cin]);
    y = tf.fused.depthwiseConv2d({ x: t as never, filter: dw as never, strides, pad: tfPad as never, dataFormat: "NHWC", dilations, bias, activation });
  } else {
    const xs = tf.split(t, spec.groups, 3);
    const fs = tf.split(filter, spec.groups, 3);
    y = tf.concat(xs.map((xi, g) => tf.conv2d(xi as never, fs[g] as never, strides, tfPad as never, "NHWC", dilations)), 3);
    if (bias) y = tf.add(y, bias);
    if (spec.relu) y = tf.relu(y);
  }
  return from2d(tf, y, spec.rank);
}

export interface ResizeSpec {
  /** Output height and width, or undefined to scale by `scale`. */
  size?: number[];
  scale?: number[];
  mode: string;
  alignCorners: boolean;
  line: number;
}

/**
 * `F.interpolate` / `nn.Upsample` on 4-d tensors. PyTorch's `nearest` picks floor(out × in / out_size), tfjs's
 * legacy nearest-neighbour resize does the same; `bilinear` without `align_corners` samples at half-pixel
 * centres, as tfjs does with `halfPixelCenters`.
 */
export function resize(tf: Tf, x: Act, spec: ResizeSpec, type: string): Act {
  const shape = logicalShape(x);
  if (shape.length !== 4) throw new NotExecutable(`\`${type}\` on a ${shape.length}-d tensor`, spec.line);
  const [h, w] = shape.slice(2);
  const size = spec.size ?? [Math.floor(h * spec.scale![0]), Math.floor(w * spec.scale![1])];
  if (spec.size === undefined && spec.scale!.some((s) => !Number.isInteger(s))) throw new NotExecutable(`\`${type}\` with a fractional scale_factor`, spec.line);
  const t = toCL(tf, x) as never;
  const out = size as [number, number];
  if (spec.mode === "nearest") {
    if (spec.alignCorners) throw new NotExecutable(`\`${type}(mode="nearest", align_corners=True)\``, spec.line);
    return { t: tf.image.resizeNearestNeighbor(t, out, false, false), cl: true };
  }
  if (spec.mode === "bilinear") return { t: spec.alignCorners ? tf.image.resizeBilinear(t, out, true) : tf.image.resizeBilinear(t, out, false, true), cl: true };
  throw new NotExecutable(`\`${type}(mode="${spec.mode}")\``, spec.line);
}

/** tfjs's `[kh, kw, out, in]` from PyTorch's ConvTranspose2d weight `[in, out, kh, kw]` (no flip: both are the adjoint of the same correlation). */
export function transposedConvFilter(tf: Tf, p: LayerParams): Tensor {
  const [cin, cout, kh, kw] = p.weightShape!;
  return tf.transpose(tf.tensor4d(p.weight!, [cin, cout, kh, kw]), [2, 3, 1, 0]);
}

export interface TransposedConvSpec {
  stride: number[];
  padding: number[];
  outputPadding: number[];
  line: number;
}

/**
 * `ConvTranspose2d` (groups and dilation of 1): tfjs's full ("valid") transposed convolution, then PyTorch's
 * `padding` cropped from each side and `output_padding` given back at the end.
 */
export function convTranspose2d(tf: Tf, x: Act, p: LayerParams, filter: Tensor, spec: TransposedConvSpec, type: string): Act {
  const shape = logicalShape(x);
  const [cin, cout, kh, kw] = p.weightShape!;
  if (shape.length !== 4) throw new TorchError("RuntimeError", `Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: [${shape.join(", ")}]`);
  if (shape[1] !== cin) throw new TorchError("RuntimeError", `Given transposed=1, weight of size [${p.weightShape!.join(", ")}], expected input[${shape.join(", ")}] to have ${cin} channels, but got ${shape[1]} channels instead`);
  if (spec.outputPadding.some((op, i) => op > spec.padding[i])) throw new NotExecutable(`\`${type}\` with output_padding larger than padding`, spec.line);
  const [n, , h, w] = shape;
  const full = [(h - 1) * spec.stride[0] + kh, (w - 1) * spec.stride[1] + kw];
  const y = tf.conv2dTranspose(toCL(tf, x) as never, filter as never, [n, full[0], full[1], cout], spec.stride as [number, number], "valid");
  const size = full.map((f, i) => f - 2 * spec.padding[i] + spec.outputPadding[i]);
  if (size.some((s) => s < 1)) throw new TorchError("RuntimeError", `Given input size per channel: (${h} x ${w}). Calculated output size per channel: (${size.join(" x ")}). Output size is too small`);
  let out = tf.slice(y, [0, spec.padding[0], spec.padding[1], 0], [n, size[0], size[1], cout]);
  if (p.bias) out = tf.add(out, tf.tensor1d(p.bias));
  return { t: out, cl: true };
}

/** `Conv3d` on `[N, D, H, W, C]`: groups of one; explicit padding is applied first (tfjs pads only "same"). */
function conv3d(tf: Tf, x: Act, p: LayerParams, filter: Tensor, spec: ConvSpec, type: string): Act {
  if (spec.groups !== 1) throw new NotExecutable(`\`${type}\` with groups`, spec.line);
  if (spec.dilation.some((d) => d !== 1)) throw new NotExecutable(`\`${type}\` with dilation`, spec.line);
  if (spec.padding === "same" && spec.stride.some((s) => s !== 1)) throw new NotExecutable(`\`${type}(padding="same")\` with a stride`, spec.line);
  let t = toCL(tf, x);
  const pad = spec.padding;
  if (Array.isArray(pad) && pad.some((v) => v > 0)) t = tf.pad(t, [[0, 0], ...pad.map((v): [number, number] => [v, v]), [0, 0]]);
  if (pad === "same") {
    // "same" with stride 1: PyTorch pads (k - 1) / 2 on each side (odd kernels), or one more at the end.
    const k = filter.shape.slice(0, 3) as number[];
    t = tf.pad(t, [[0, 0], ...k.map((v): [number, number] => [Math.floor((v - 1) / 2), Math.ceil((v - 1) / 2)]), [0, 0]]);
  }
  let y = conv3dAsConv2d(tf, t, filter, spec.stride as [number, number, number]);
  if (p.bias) y = tf.add(y, tf.tensor1d(p.bias));
  return { t: y, cl: true };
}

/**
 * A "valid" 3-d convolution as one 2-d convolution per kernel depth, summed: the backend's 2-d kernel (XNNPACK)
 * is many times faster than its 3-d one. `t` is `[N, D, H, W, C]`, `filter` `[kd, kh, kw, C, out]`.
 */
function conv3dAsConv2d(tf: Tf, t: Tensor, filter: Tensor, [sd, sh, sw]: [number, number, number]): Tensor {
  const [n, d, h, w, c] = t.shape as number[];
  const [kd, kh, kw, , out] = filter.shape as number[];
  const depthOut = Math.floor((d - kd) / sd) + 1;
  if (depthOut < 1) throw new TorchError("RuntimeError", `Calculated padded input size per channel: (${d} x ${h} x ${w}). Kernel size: (${kd} x ${kh} x ${kw}). Kernel size can't be greater than actual input size`);
  // Depth planes picked with a gather on a rank-3 view: the backend slices rank-5 tensors element by element.
  const flat = tf.reshape(t, [n, d, h * w * c]);
  const flatFilter = tf.reshape(filter, [kd, kh * kw * c * out]);
  let sum: Tensor | undefined;
  for (let i = 0; i < kd; i++) {
    const planes = tf.gather(flat, Array.from({ length: depthOut }, (_, j) => i + j * sd), 1);
    const weights = tf.reshape(tf.gather(flatFilter, [i], 0), [kh, kw, c, out]);
    const y = tf.conv2d(tf.reshape(planes, [n * depthOut, h, w, c]) as never, weights as never, [sh, sw], "valid", "NHWC");
    sum = sum ? tf.add(sum, y) : y;
  }
  const [, ho, wo] = sum!.shape as number[];
  return tf.reshape(sum!, [n, depthOut, ho, wo, out]);
}

function explicitPad([ph, pw]: [number, number]): [[number, number], [number, number], [number, number], [number, number]] {
  return [[0, 0], [ph, ph], [pw, pw], [0, 0]];
}

export function linear(tf: Tf, x: Act, p: LayerParams, weight: Tensor): Act {
  const t = toCF(tf, x);
  const [out, fin] = p.weightShape!;
  const shape = t.shape;
  const last = shape[shape.length - 1];
  if (last !== fin) {
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    throw new TorchError("RuntimeError", `mat1 and mat2 shapes cannot be multiplied (${rows}x${last} and ${fin}x${out})`);
  }
  let y = tf.matMul(tf.reshape(t, [-1, fin]), weight, false, true);
  if (p.bias) y = tf.add(y, tf.tensor1d(p.bias));
  return { t: tf.reshape(y, [...shape.slice(0, -1), out]), cl: false };
}

export interface PoolSpec {
  kind: "max" | "avg";
  rank: 1 | 2 | 3;
  kernel: number[];
  stride: number[];
  padding: number[];
  ceilMode: boolean;
  countIncludePad: boolean;
  line: number;
}

export function pool(tf: Tf, x: Act, spec: PoolSpec, type: string): Act {
  const shape = logicalShape(x);
  if (shape.length !== spec.rank + 2) throw new NotExecutable(`\`${type}\` on a ${shape.length}-d tensor`, spec.line);
  const spatial = shape.slice(2);
  // ceil_mode: one more window where the last one would start inside the input (or its left padding), as PyTorch
  // sizes it; for max pooling that window is the input padded on the right with -inf.
  const extra = spatial.map((s, i) => {
    const span = s + 2 * spec.padding[i] - spec.kernel[i];
    if (span < 0) throw new TorchError("RuntimeError", `Given input size: (${shape.slice(1).join("x")}). Calculated output size: (${shape[1]}x${spatial.map((d, j) => Math.floor((d + 2 * spec.padding[j] - spec.kernel[j]) / spec.stride[j]) + 1).join("x")}). Output size is too small`);
    if (!spec.ceilMode || span % spec.stride[i] === 0) return 0;
    let out = Math.ceil(span / spec.stride[i]) + 1;
    if ((out - 1) * spec.stride[i] >= s + spec.padding[i]) out -= 1;
    const more = (out - 1) * spec.stride[i] + spec.kernel[i] - (s + 2 * spec.padding[i]);
    if (more > 0 && spec.kind !== "max") throw new NotExecutable(`\`${type}(ceil_mode=True)\` where rounding up adds a partial window (the executor computes it for max pooling only)`, spec.line);
    return Math.max(more, 0);
  });
  if (spec.padding.some((p) => p > 0) && spec.kind === "avg" && !spec.countIncludePad) throw new NotExecutable(`\`${type}(count_include_pad=False)\` with padding`, spec.line);
  const sides = spec.padding.map((p, i): [number, number] => [p, p + extra[i]]);
  const padded = sides.some(([a, b]) => a > 0 || b > 0);
  if (spec.rank === 3) {
    let v = toCL(tf, x);
    if (padded) v = tf.pad(v, [[0, 0], ...sides, [0, 0]], spec.kind === "max" ? -Infinity : 0);
    const [k, s] = [spec.kernel as [number, number, number], spec.stride as [number, number, number]];
    return { t: spec.kind === "max" ? tf.maxPool3d(v as never, k, s, "valid", undefined, "NDHWC") : tf.avgPool3d(v as never, k, s, "valid", undefined, "NDHWC"), cl: true };
  }
  let t = as2d(tf, toCL(tf, x), spec.rank);
  // 1-d pooling runs as 2-d over a height of 1.
  const [sideH, sideW] = spec.rank === 1 ? [[0, 0] as [number, number], sides[0]] : [sides[0], sides[1]];
  if (padded) t = tf.pad(t, [[0, 0], sideH, sideW, [0, 0]], spec.kind === "max" ? -Infinity : 0);
  const k = pair(spec.kernel, spec.rank);
  const s = pair(spec.stride, spec.rank);
  const y = spec.kind === "max" ? tf.maxPool(t as never, k, s, "valid") : tf.avgPool(t as never, k, s, "valid");
  return from2d(tf, y, spec.rank);
}

/** Adaptive pooling to an output size that divides the input (global pooling is the usual case). */
export function adaptivePool(tf: Tf, x: Act, kind: "max" | "avg", rank: 1 | 2, outSize: (number | null)[], type: string, line: number): Act {
  const shape = logicalShape(x);
  if (shape.length !== rank + 2) throw new NotExecutable(`\`${type}\` on a ${shape.length}-d tensor`, line);
  const spatial = shape.slice(2);
  const out = outSize.map((o, i) => o ?? spatial[i]);
  if (out.some((o) => o < 1)) throw new NotExecutable(`\`${type}(${out.join(", ")})\``, line);
  if (out.every((o, i) => spatial[i] % o === 0)) {
    const kernel = spatial.map((s, i) => s / out[i]);
    return pool(tf, x, { kind, rank, kernel, stride: kernel, padding: kernel.map(() => 0), ceilMode: false, countIncludePad: true, line }, type);
  }
  if (out.reduce((a, b) => a * b, 1) > MAX_ADAPTIVE_CELLS) throw new NotExecutable(`\`${type}(${out.join(", ")})\` on a ${spatial.join("x")} input (too many uneven windows)`, line);
  return unevenAdaptivePool(tf, x, kind, spatial, out);
}

/** Output cells pooled one by one when the windows are uneven; past this many, the model is not run. */
const MAX_ADAPTIVE_CELLS = 256;

/**
 * Adaptive pooling where the output size does not divide the input: PyTorch's window for output i along a
 * dimension of size n → m is [floor(i·n/m), ceil((i+1)·n/m)), so windows overlap or differ in size.
 */
function unevenAdaptivePool(tf: Tf, x: Act, kind: "max" | "avg", spatial: number[], out: number[]): Act {
  const t = toCF(tf, x);
  const windows = (n: number, m: number) => Array.from({ length: m }, (_, i) => [Math.floor((i * n) / m), Math.ceil(((i + 1) * n) / m)]);
  const axes = spatial.map((_, i) => i + 2);
  const reduce = (v: Tensor) => (kind === "max" ? tf.max(v, axes, true) : tf.mean(v, axes, true));
  const perDim = spatial.map((n, d) => windows(n, out[d]));
  const cell = (d: number, begin: number[], size: number[]): Tensor => {
    if (d === spatial.length) return reduce(tf.slice(t, [0, 0, ...begin], [-1, -1, ...size]));
    return tf.concat(perDim[d].map(([a, b]) => cell(d + 1, [...begin, a], [...size, b - a])), d + 2);
  };
  return { t: cell(0, [], []), cl: false };
}

/**
 * BatchNorm as PyTorch computes it (torch/nn/modules/batchnorm.py, 1.13): in training mode it normalises
 * with the batch mean and the biased batch variance and moves the running statistics towards the batch
 * mean and the *unbiased* variance by `momentum` (or by 1/num_batches_tracked when momentum is None); in
 * eval mode it uses the running statistics; without `track_running_stats` it always uses batch statistics.
 */
import type * as TF from "@tensorflow/tfjs-core";
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, logicalShape, toCL } from "./act.js";
import { BATCHNORM_RANKS, type BatchNormState } from "./params.js";

/** An error PyTorch itself would raise at this call, with its text. */
export class TorchError extends Error {
  constructor(readonly pyType: "RuntimeError" | "ValueError", message: string) {
    super(message);
  }
}

function torchSize(shape: number[]): string {
  return `torch.Size([${shape.join(", ")}])`;
}

/** The checks PyTorch makes before normalising, with its messages. */
export function checkBatchNormInput(type: string, shape: number[], st: BatchNormState, training: boolean): void {
  const ranks = BATCHNORM_RANKS[type];
  if (ranks && !ranks.includes(shape.length)) {
    const want = ranks.map((r) => `${r}D`).join(" or ");
    throw new TorchError("ValueError", `expected ${want} input (got ${shape.length}D input)`);
  }
  const channels = shape[1];
  if (st.trackRunningStats && channels !== st.numFeatures) throw new TorchError("RuntimeError", `running_mean should contain ${channels} elements not ${st.numFeatures}`);
  if (st.affine && channels !== st.numFeatures) throw new TorchError("RuntimeError", `weight should contain ${channels} elements not ${st.numFeatures}`);
  if (training) {
    const valuesPerChannel = shape.reduce((a, b) => a * b, 1) / channels;
    if (valuesPerChannel <= 1) throw new TorchError("ValueError", `Expected more than 1 value per channel when training, got input size ${torchSize(shape)}`);
  }
}

export interface BatchNormCall {
  training: boolean;
  /** False for a measurement pass in train mode that must not move the running statistics. */
  updateStats: boolean;
  /** Sees each running-statistics update's inputs (the batch mean, biased variance, values per channel). */
  onBatchStats?: (mean: Float32Array, biasedVar: Float32Array, n: number) => void;
  /** The ReLU after this call runs inside it (its only consumer; see `GraphExecutor.fusibleRelus`). */
  relu?: boolean;
}

/**
 * Per-channel batch mean and biased variance of a channels-last tensor, read back as float64. Each sample is
 * pooled on the backend (`[N, S, 1, C]` averaged over its S positions, in place, channels last) and the N
 * per-sample values are averaged here, which skips the backend's batch-axis reduction and its transpose. Two
 * passes, as PyTorch does: the variance is taken around the mean.
 */
export function batchMoments(tf: Tf, t: Tensor): { mean: Float64Array; variance: Float64Array } {
  const channels = t.shape[t.rank - 1]!;
  const samples = t.size / channels;
  const perSample = t.rank < 3 ? samples : t.shape[0]!;
  const spatial = samples / perSample;
  const average = (v: Tensor): Float64Array => {
    let rows: TF.TypedArray;
    if (spatial === 1) rows = v.dataSync();
    else {
      const pooled = tf.tidy(() => tf.avgPool(tf.reshape(v, [perSample, spatial, 1, channels]) as TF.Tensor4D, [spatial, 1], 1, "valid"));
      rows = pooled.dataSync();
      pooled.dispose();
    }
    const out = new Float64Array(channels);
    const count = rows.length / channels;
    for (let r = 0, i = 0; r < count; r++) for (let c = 0; c < channels; c++, i++) out[c] += rows[i]!;
    for (let c = 0; c < channels; c++) out[c] /= count;
    return out;
  };
  const mean = average(t);
  const squares = tf.tidy(() => tf.squaredDifference(t, tf.tensor1d(Float32Array.from(mean))));
  const variance = average(squares);
  squares.dispose();
  return { mean, variance };
}

/**
 * `x * alpha + beta` with `alpha = weight / sqrt(var + eps)` and `beta = bias - mean * alpha` per channel, the
 * form PyTorch's CPU kernel applies in both modes; the factors are made here, on `channels` numbers. It runs as
 * a 1x1 depthwise convolution with bias: one XNNPACK pass over the activation, about 4x faster than the
 * backend's broadcasting multiply and add (8x32x32x32), with the same float32 results, and a ReLU that is the
 * BatchNorm's only consumer runs inside it (`relu`).
 */
function normalize(tf: Tf, t: Tensor, mean: ArrayLike<number>, variance: ArrayLike<number>, st: BatchNormState, relu: boolean): Tensor {
  const channels = mean.length;
  const alpha = new Float32Array(channels);
  const beta = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    alpha[c] = (st.weight ? st.weight[c]! : 1) / Math.sqrt(variance[c]! + st.eps);
    beta[c] = (st.bias ? st.bias[c]! : 0) - mean[c]! * alpha[c]!;
  }
  return tf.tidy(() => {
    const rows = t.rank < 3 ? t.size / channels : t.shape[0]!;
    const x = tf.reshape(t, [rows, t.size / (rows * channels), 1, channels]) as TF.Tensor4D;
    const filter = tf.tensor4d(alpha, [1, 1, channels, 1]);
    const y = tf.fused.depthwiseConv2d({ x, filter, strides: 1, pad: "valid", bias: tf.tensor1d(beta), activation: relu ? "relu" : "linear" });
    return tf.reshape(y, t.shape);
  });
}

export function batchNorm(tf: Tf, x: Act, type: string, st: BatchNormState, call: BatchNormCall): Act {
  const shape = logicalShape(x);
  checkBatchNormInput(type, shape, st, call.training);
  const t = toCL(tf, x); // channels on the last axis, where per-channel factors broadcast
  const useBatchStats = call.training || !st.trackRunningStats;
  const relu = call.relu ?? false;
  if (!useBatchStats) return { t: normalize(tf, t, st.runningMean!, st.runningVar!, st, relu), cl: t.rank >= 3 };
  const { mean, variance } = batchMoments(tf, t);
  if (call.training && st.trackRunningStats && call.updateStats) {
    const [m, v, n] = [Float32Array.from(mean), Float32Array.from(variance), t.size / st.numFeatures];
    call.onBatchStats?.(m, v, n);
    updateRunningStats(st, m, v, n);
  }
  return { t: normalize(tf, t, mean, variance, st, relu), cl: t.rank >= 3 };
}

/** PyTorch's running-statistics update for one train-mode call. */
export function updateRunningStats(st: BatchNormState, mean: Float32Array, biasedVar: Float32Array, n: number, factorOverride?: number): void {
  st.numBatchesTracked += 1;
  const factor = factorOverride ?? (st.momentum === null ? 1 / st.numBatchesTracked : st.momentum);
  const unbias = n / (n - 1);
  const rm = st.runningMean!;
  const rv = st.runningVar!;
  for (let c = 0; c < rm.length; c++) {
    rm[c] = (1 - factor) * rm[c] + factor * mean[c];
    rv[c] = (1 - factor) * rv[c] + factor * biasedVar[c] * unbias;
  }
}

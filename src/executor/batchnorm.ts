/**
 * BatchNorm as PyTorch computes it (torch/nn/modules/batchnorm.py, 1.13): in training mode it normalises
 * with the batch mean and the biased batch variance and moves the running statistics towards the batch
 * mean and the *unbiased* variance by `momentum` (or by 1/num_batches_tracked when momentum is None); in
 * eval mode it uses the running statistics; without `track_running_stats` it always uses batch statistics.
 */
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
}

/**
 * Per-channel mean and biased variance of a tensor whose channels are its last axis. The backend reduces over
 * leading axes by transposing the whole activation first (slow for 5-d video and volume tensors); a product
 * with a row of 1/n makes the same sums where the data lie. Two passes: the variance is taken around the mean.
 */
export function channelMoments(tf: Tf, t: Tensor): { mean: Tensor; variance: Tensor } {
  return tf.tidy(() => {
    const channels = t.shape[t.rank - 1]!;
    const rows = t.size / channels;
    const x = tf.reshape(t, [rows, channels]);
    const average = tf.fill([1, rows], 1 / rows);
    const mean = tf.matMul(average, x);
    const variance = tf.matMul(average, tf.square(tf.sub(x, mean)));
    return { mean: tf.reshape(mean, [channels]), variance: tf.reshape(variance, [channels]) };
  });
}

export function batchNorm(tf: Tf, x: Act, type: string, st: BatchNormState, call: BatchNormCall): Act {
  const shape = logicalShape(x);
  checkBatchNormInput(type, shape, st, call.training);
  const t = toCL(tf, x); // channels on the last axis, where tf.batchNorm broadcasts its statistics
  const useBatchStats = call.training || !st.trackRunningStats;
  return tf.tidy(() => {
    let mean;
    let variance;
    if (useBatchStats) {
      // Up to 4-d the backend's own reduction is as fast; for 5-d tensors its transpose dominates.
      const m = t.rank >= 5 ? channelMoments(tf, t) : tf.moments(t, Array.from({ length: t.rank - 1 }, (_, i) => i));
      mean = m.mean;
      variance = m.variance;
      if (call.training && st.trackRunningStats && call.updateStats) {
        const [m, v, n] = [mean.dataSync() as Float32Array, variance.dataSync() as Float32Array, t.size / st.numFeatures];
        call.onBatchStats?.(m, v, n);
        updateRunningStats(st, m, v, n);
      }
    } else {
      mean = tf.tensor1d(st.runningMean!);
      variance = tf.tensor1d(st.runningVar!);
    }
    const scale = st.weight ? tf.tensor1d(st.weight) : undefined;
    const offset = st.bias ? tf.tensor1d(st.bias) : undefined;
    return { t: tf.batchNorm(t, mean, variance, offset, scale, st.eps), cl: t.rank >= 3 };
  });
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

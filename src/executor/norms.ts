/**
 * The normalisations other than BatchNorm, as PyTorch computes them with their default affine parameters
 * (weight 1, bias 0): LayerNorm over the trailing `normalized_shape`, GroupNorm over channel groups, and
 * InstanceNorm over each sample's channel (always batch statistics: bnlint runs it without running statistics).
 * All use the biased variance, as PyTorch does. None of them depends on the batch, so none is a BatchNorm finding.
 */
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, cf, logicalShape, toCF } from "./act.js";
import { TorchError } from "./batchnorm.js";

function normalize(tf: Tf, t: Tensor, axes: number[], eps: number): Tensor {
  const { mean, variance } = tf.moments(t, axes, true);
  return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, eps)));
}

export function layerNorm(tf: Tf, x: Act, normalizedShape: number[], eps: number): Act {
  const shape = logicalShape(x);
  const tail = shape.slice(shape.length - normalizedShape.length);
  if (normalizedShape.length > shape.length || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new TorchError("RuntimeError", `Given normalized_shape=[${normalizedShape.join(", ")}], expected input with shape [*, ${normalizedShape.join(", ")}], but got input of size[${shape.join(", ")}]`);
  }
  const t = toCF(tf, x);
  return cf(normalize(tf, t, normalizedShape.map((_, i) => t.rank - normalizedShape.length + i), eps));
}

export function groupNorm(tf: Tf, x: Act, groups: number, channels: number, eps: number): Act {
  const shape = logicalShape(x);
  if (shape[1] !== channels) {
    throw new TorchError("RuntimeError", `Expected weight to be a vector of size equal to the number of channels in input, but got weight of shape [${channels}] and input of shape [${shape.join(", ")}]`);
  }
  const t = toCF(tf, x);
  const grouped = tf.reshape(t, [shape[0], groups, -1]);
  return cf(tf.reshape(normalize(tf, grouped, [2], eps), shape));
}

export function instanceNorm(tf: Tf, x: Act, rank: number, eps: number): Act {
  const shape = logicalShape(x);
  if (shape.length !== rank + 2) {
    throw new TorchError("ValueError", `expected ${rank + 2}D input (got ${shape.length}D input)`);
  }
  const t = toCF(tf, x);
  return cf(normalize(tf, t, Array.from({ length: rank }, (_, i) => i + 2), eps));
}

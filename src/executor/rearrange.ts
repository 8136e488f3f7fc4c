/**
 * Operations that move or repeat values without arithmetic: `F.pad`, `torch.stack`, pixel (un)shuffle,
 * `flip`, `roll`, `expand` and `repeat`, with PyTorch's semantics and, where a model can get them wrong,
 * its error text.
 */
import type { GraphNode } from "../model/graph.js";
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, cf, logicalShape, toCF } from "./act.js";
import { NotExecutable, NotExecutableShape } from "./module-config.js";
import { wrapDim } from "./indexing.js";

/**
 * `F.pad(x, pad, mode, value)`: `pad` lists (before, after) pairs from the last dimension backwards. Negative
 * amounts crop, as in PyTorch. Modes: constant and reflect.
 */
export function pad(tf: Tf, x: Act, amounts: number[], mode: string, value: number, node: GraphNode): Act {
  const t = toCF(tf, x);
  const rank = t.rank;
  if (amounts.length % 2 !== 0 || amounts.length / 2 > rank) throw new NotExecutableShape(`Padding length must be divisible by 2 and at most twice the number of dimensions of the input (${amounts.length} for a ${rank}-d input)`, node);
  const pairs = Array.from({ length: rank }, () => [0, 0] as [number, number]);
  for (let i = 0; i < amounts.length / 2; i++) pairs[rank - 1 - i] = [amounts[2 * i], amounts[2 * i + 1]];
  const grow = pairs.map(([b, e]) => [Math.max(b, 0), Math.max(e, 0)] as [number, number]);
  let out: Tensor;
  if (mode === "constant") out = tf.pad(t, grow, value);
  else if (mode === "reflect") {
    pairs.forEach(([b, e], i) => {
      if (b >= t.shape[i] || e >= t.shape[i]) throw new NotExecutableShape(`Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (${b}, ${e}) at dimension ${i} of input [${t.shape.join(", ")}]`, node);
    });
    out = tf.mirrorPad(t, grow, "reflect");
  } else throw new NotExecutable(`\`F.pad\` in mode "${mode}"`, node.range.start.line);
  // Negative amounts crop what the positive ones left.
  if (pairs.some(([b, e]) => b < 0 || e < 0)) {
    const begin = pairs.map(([b]) => Math.max(-b, 0));
    const size = out.shape.map((n, i) => n - begin[i] - Math.max(-pairs[i][1], 0));
    if (size.some((n) => n < 0)) throw new NotExecutableShape(`The input size ${t.shape.join("x")}, plus negative padding [${amounts.join(", ")}] resulted in a negative output size`, node);
    out = tf.slice(out, begin, size);
  }
  return cf(out);
}

/** `torch.stack(tensors, dim)`: equal shapes, a new dimension at `dim`. */
export function stack(tf: Tf, xs: Act[], dim: number, node: GraphNode): Act {
  if (xs.length === 0) throw new NotExecutableShape("stack expects a non-empty TensorList", node);
  const shapes = xs.map(logicalShape);
  shapes.forEach((s, i) => {
    if (s.length !== shapes[0].length || s.some((n, j) => n !== shapes[0][j])) {
      throw new NotExecutableShape(`stack expects each tensor to be equal size, but got [${shapes[0].join(", ")}] at entry 0 and [${s.join(", ")}] at entry ${i}`, node);
    }
  });
  return cf(tf.stack(xs.map((x) => toCF(tf, x)), wrapDim(dim, shapes[0].length + 1, node)));
}

/** `F.pixel_shuffle(x, r)` / `nn.PixelShuffle(r)`: [N, C·r², H, W] → [N, C, H·r, W·r]. */
export function pixelShuffle(tf: Tf, x: Act, r: number, node: GraphNode): Act {
  const t = toCF(tf, x);
  if (t.rank !== 4) throw new NotExecutable(`pixel_shuffle of a ${t.rank}-d tensor`, node.range.start.line);
  const [n, c, h, w] = t.shape;
  if (c % (r * r) !== 0) throw new NotExecutableShape(`pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)=${c} is not divisible by ${r * r}`, node);
  const oc = c / (r * r);
  const parts = tf.reshape(t, [n, oc, r, r, h, w]);
  return cf(tf.reshape(tf.transpose(parts, [0, 1, 4, 2, 5, 3]), [n, oc, h * r, w * r]));
}

/** `F.pixel_unshuffle(x, r)` / `nn.PixelUnshuffle(r)`: [N, C, H·r, W·r] → [N, C·r², H, W]. */
export function pixelUnshuffle(tf: Tf, x: Act, r: number, node: GraphNode): Act {
  const t = toCF(tf, x);
  if (t.rank !== 4) throw new NotExecutable(`pixel_unshuffle of a ${t.rank}-d tensor`, node.range.start.line);
  const [n, c, h, w] = t.shape;
  if (h % r !== 0 || w % r !== 0) throw new NotExecutableShape(`pixel_unshuffle expects height and width to be divisible by downscale_factor, but input.size(-2)=${h} and input.size(-1)=${w} are not divisible by ${r}`, node);
  const parts = tf.reshape(t, [n, c, h / r, r, w / r, r]);
  return cf(tf.reshape(tf.transpose(parts, [0, 1, 3, 5, 2, 4]), [n, c * r * r, h / r, w / r]));
}

/** `x.flip(dims)`. */
export function flip(tf: Tf, x: Act, dims: number[], node: GraphNode): Act {
  const t = toCF(tf, x);
  return cf(tf.reverse(t, dims.map((d) => wrapDim(d, t.rank, node))));
}

/** `x.roll(shifts, dims)`: each dimension rotated by its shift (a flattened roll, without dims, is not run). */
export function roll(tf: Tf, x: Act, shifts: number[], dims: number[], node: GraphNode): Act {
  if (shifts.length !== dims.length) throw new NotExecutableShape(`shifts and dimensions must align. shifts: ${shifts.length}, dims:${dims.length}`, node);
  let t = toCF(tf, x);
  dims.forEach((dim, i) => {
    const d = wrapDim(dim, t.rank, node);
    const n = t.shape[d];
    const s = ((shifts[i] % n) + n) % n;
    if (s === 0) return;
    const [head, tail] = tf.split(t, [n - s, s], d);
    t = tf.concat([tail, head], d);
  });
  return cf(t);
}

/** `x.expand(*sizes)`: -1 keeps a size; new leading dimensions may be added; only size-1 dimensions grow. */
export function expand(tf: Tf, x: Act, sizes: number[], node: GraphNode): Act {
  const shape = logicalShape(x);
  if (sizes.length < shape.length) throw new NotExecutableShape(`expand(torch.FloatTensor{[${shape.join(", ")}]}, size=[${sizes.join(", ")}]): the number of sizes provided (${sizes.length}) must be greater or equal to the number of dimensions in the tensor (${shape.length})`, node);
  const lead = sizes.length - shape.length;
  const target = sizes.map((s, i) => (i >= lead && s === -1 ? shape[i - lead] : s));
  target.forEach((s, i) => {
    const have = i >= lead ? shape[i - lead] : 1;
    if (have !== s && have !== 1) throw new NotExecutableShape(`The expanded size of the tensor (${s}) must match the existing size (${have}) at non-singleton dimension ${i}.  Target sizes: [${sizes.join(", ")}].  Tensor sizes: [${shape.join(", ")}]`, node);
  });
  return cf(tf.broadcastTo(toCF(tf, x), target));
}

/** `x.repeat(*sizes)`: tiles; more sizes than dimensions add leading ones. */
export function repeat(tf: Tf, x: Act, sizes: number[], node: GraphNode): Act {
  const shape = logicalShape(x);
  if (sizes.length < shape.length) throw new NotExecutableShape("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor", node);
  const t = tf.reshape(toCF(tf, x), [...Array(sizes.length - shape.length).fill(1), ...shape]);
  return cf(tf.tile(t, sizes));
}

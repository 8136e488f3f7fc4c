/**
 * Indexing as PyTorch does it on tensors (`x[:, :8]`, `x[..., 1:-1]`, `x[:, None]`, `x[0]`) and the operations
 * that cut a tensor into parts (`chunk`, `split`, `unbind`, `narrow`). A tuple of parts is one value whose
 * `parts` only indexing and unpacking read.
 */
import type { ExtraArg, GraphNode } from "../model/graph.js";
import type { Tf } from "./tensor-lib.js";
import { type Act, cf, logicalShape, physicalAxis, toCF } from "./act.js";
import { NotExecutable, NotExecutableShape } from "./module-config.js";
import type { NodeArgs } from "./node-args.js";

const isText = (k: ExtraArg, text: string): boolean => k.kind === "other" && k.text.trim() === text;

function dimOutOfRange(dim: number, rank: number, node: GraphNode): NotExecutableShape {
  return new NotExecutableShape(`Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${dim})`, node);
}

/** A dimension argument as an index (negative from the end), with PyTorch's error when out of range. */
export function wrapDim(dim: number, rank: number, node: GraphNode): number {
  const d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank) throw dimOutOfRange(dim, rank, node);
  return d;
}

function intOf(a: NodeArgs, k: ExtraArg, what: string, node: GraphNode): number {
  const v = a.scalar(k, what);
  if (typeof v !== "number" || !Number.isInteger(v)) throw new NotExecutable(`\`${what}\` that is not an integer`, node.range.start.line);
  return v;
}

/** `x[keys]` for integers, slices, `None` and `...`; a tensor as an index is not run. */
export function indexTensor(tf: Tf, x: Act, keys: readonly ExtraArg[], a: NodeArgs, node: GraphNode): Act {
  const t = toCF(tf, x);
  const shape = t.shape;
  const rank = shape.length;
  for (const k of keys) if (k.kind === "tensor") throw new NotExecutable("indexing with a tensor", node.range.start.line);
  const consuming = keys.filter((k) => !isText(k, "None") && !isText(k, "...")).length;
  if (consuming > rank) throw new NotExecutableShape(`too many indices for tensor of dimension ${rank}`, node, "IndexError");
  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  const out: number[] = [];
  let dim = 0;
  const whole = (): void => {
    begin.push(0);
    end.push(shape[dim]);
    strides.push(1);
    out.push(shape[dim]);
    dim++;
  };
  for (const k of keys) {
    if (isText(k, "...")) {
      for (let n = rank - consuming; n > 0; n--) whole();
    } else if (isText(k, "None")) {
      out.push(1);
    } else if (k.kind === "slice") {
      const size = shape[dim];
      const bound = (b: ExtraArg | undefined): number | null => (b === undefined || isText(b, "None") ? null : intOf(a, b, "slice bound", node));
      const step = bound(k.step) ?? 1;
      if (step <= 0) throw new NotExecutableShape("step must be greater than zero", node);
      const clamp = (v: number | null, fallback: number): number => (v === null ? fallback : v < 0 ? Math.max(0, v + size) : Math.min(v, size));
      const s = clamp(bound(k.start), 0);
      const e = Math.max(s, clamp(bound(k.stop), size));
      begin.push(s);
      end.push(e);
      strides.push(step);
      out.push(Math.ceil((e - s) / step));
      dim++;
    } else {
      const size = shape[dim];
      const i = intOf(a, k, "index", node);
      const at = i < 0 ? i + size : i;
      if (at < 0 || at >= size) throw new NotExecutableShape(`index ${i} is out of bounds for dimension ${dim} with size ${size}`, node, "IndexError");
      begin.push(at);
      end.push(at + 1);
      strides.push(1);
      dim++;
    }
  }
  while (dim < rank) whole();
  return cf(tf.reshape(tf.stridedSlice(t, begin, end, strides), out));
}

/** `x.narrow(dim, start, length)`: a slice along one dimension, in the tensor's own layout. */
export function narrow(tf: Tf, x: Act, dim: number, start: number, length: number, node: GraphNode): Act {
  const shape = logicalShape(x);
  const d = wrapDim(dim, shape.length, node);
  const s = start < 0 ? start + shape[d] : start;
  if (s < 0 || length < 0 || s + length > shape[d]) throw new NotExecutableShape(`start (${start}) + length (${length}) exceeds dimension size (${shape[d]}).`, node);
  return slicePart(tf, x, d, s, length);
}

function slicePart(tf: Tf, x: Act, dim: number, start: number, length: number): Act {
  const axis = physicalAxis(x, dim);
  const begin = x.t.shape.map((_, i) => (i === axis ? start : 0));
  const size = x.t.shape.map((n, i) => (i === axis ? length : n));
  return { t: tf.slice(x.t, begin, size), cl: x.cl };
}

function tupleOf(x: Act, parts: Act[]): Act {
  return { t: x.t, cl: x.cl, parts };
}

/** `x.split(size, dim)` / `x.split([sizes], dim)`: parts of `size` (the last may be smaller) or of the given sizes. */
export function split(tf: Tf, x: Act, sizes: number | number[], dim: number, node: GraphNode): Act {
  const shape = logicalShape(x);
  const d = wrapDim(dim, shape.length, node);
  const n = shape[d];
  let lengths: number[];
  if (typeof sizes === "number") {
    if (sizes <= 0) throw new NotExecutableShape(`split expects split_size be non-negative, but got split_size=${sizes}`, node);
    lengths = Array.from({ length: Math.max(1, Math.ceil(n / sizes)) }, (_, i) => Math.min(sizes, n - i * sizes));
  } else {
    if (sizes.reduce((p, q) => p + q, 0) !== n) {
      throw new NotExecutableShape(`split_with_sizes expects split_sizes to sum exactly to ${n} (input tensor's size at dimension ${d}), but got split_sizes=[${sizes.join(", ")}]`, node);
    }
    lengths = sizes;
  }
  let at = 0;
  return tupleOf(x, lengths.map((len) => slicePart(tf, x, d, (at += len) - len, len)));
}

/** `x.chunk(chunks, dim)`: parts of ceil(size / chunks), so there may be fewer than `chunks`. */
export function chunk(tf: Tf, x: Act, chunks: number, dim: number, node: GraphNode): Act {
  if (chunks <= 0) throw new NotExecutableShape("chunk expects `chunks` to be greater than 0, got: " + chunks, node);
  const shape = logicalShape(x);
  const n = shape[wrapDim(dim, shape.length, node)];
  return split(tf, x, Math.max(1, Math.ceil(n / chunks)), dim, node);
}

/** `x.unbind(dim)`: every index along `dim`, that dimension removed. */
export function unbind(tf: Tf, x: Act, dim: number, node: GraphNode): Act {
  const t = toCF(tf, x);
  const d = wrapDim(dim, t.rank, node);
  return tupleOf(x, tf.unstack(t, d).map(cf));
}

/** Item `i` of a tuple of parts (`x.chunk(2, 1)[0]`, and each name of `a, b = x.chunk(2, 1)`). */
export function partAt(parts: readonly Act[], key: ExtraArg | undefined, a: NodeArgs, node: GraphNode): Act {
  if (!key) throw new NotExecutable("indexing without an index", node.range.start.line);
  const i = intOf(a, key, "index", node);
  const at = i < 0 ? i + parts.length : i;
  if (at < 0 || at >= parts.length) throw new NotExecutableShape("tuple index out of range", node, "IndexError");
  return parts[at];
}

/**
 * A tensor as the executor passes it between nodes. Convolutions and pooling run channels-last (the layout
 * the WebAssembly kernels want) while PyTorch code thinks channels-first; `cl` records the physical layout
 * so a tensor is transposed only when an operation needs the other one (a `view`, a `cat`, a `Linear`).
 */
import type { Tensor, Tf } from "./tensor-lib.js";

export interface Act {
  readonly t: Tensor;
  /** Physically channels-last (`[N, H, W, C]` for a logical `[N, C, H, W]`); only for rank ≥ 3. */
  readonly cl: boolean;
  /**
   * Set when the value is a tuple of tensors (`x.chunk(2, 1)`): its parts, which only indexing and unpacking
   * read; `t` is then the tensor they were cut from.
   */
  readonly parts?: readonly Act[];
}

export function cf(t: Tensor): Act {
  return { t, cl: false };
}

/** The shape PyTorch would report. */
export function logicalShape(a: Act): number[] {
  const s = a.t.shape;
  return a.cl ? [s[0], s[s.length - 1], ...s.slice(1, -1)] : [...s];
}

/** Channels-first physical tensor. */
export function toCF(tf: Tf, a: Act): Tensor {
  if (!a.cl) return a.t;
  const r = a.t.rank;
  return tf.transpose(a.t, [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)]);
}

/** Channels-last physical tensor (rank ≥ 3). */
export function toCL(tf: Tf, a: Act): Tensor {
  if (a.cl || a.t.rank < 3) return a.t;
  const r = a.t.rank;
  return tf.transpose(a.t, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
}

/** Index of the physical axis that holds logical dimension `dim` (negative dims count from the end). */
export function physicalAxis(a: Act, dim: number): number {
  const r = a.t.rank;
  const d = dim < 0 ? dim + r : dim;
  if (!a.cl) return d;
  if (d === 0) return 0;
  if (d === 1) return r - 1;
  return d - 1;
}

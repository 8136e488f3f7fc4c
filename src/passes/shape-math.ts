/** Shape arithmetic shared by the operator table: tensors with symbolic dims and where each dim came from. */
import {
  constValue, symAdd, symConst, symEquals, symFloorDiv, symMul, symSub, type Sym,
} from "../model/symbolic.js";

/** A tensor shape as the pass tracks it: one symbolic size per dim (undefined: unknown) and its producer node. */
export interface ShapeFact {
  readonly dims: readonly (Sym | undefined)[];
  /** Node id that decided each dim (a conv for its channels, the input for the batch size). */
  readonly origins: readonly (number | undefined)[];
}

export function fact(dims: readonly (Sym | undefined)[], origins: readonly (number | undefined)[]): ShapeFact {
  return { dims, origins };
}

/** Same shape, every dim attributed to `origin` (an op that made all of them). */
export function madeBy(dims: readonly (Sym | undefined)[], origin: number): ShapeFact {
  return { dims, origins: dims.map(() => origin) };
}

/** A dim index as Python reads it (`-1` is the last); undefined when out of range or unknown. */
export function normalizeDim(d: Sym | undefined, rank: number, extra = 0): number | undefined {
  const c = d ? constValue(d) : undefined;
  if (c === undefined || !Number.isInteger(c)) return undefined;
  const n = c < 0 ? c + rank + extra : c;
  return n >= 0 && n < rank + extra ? n : undefined;
}

export function mulAll(xs: readonly (Sym | undefined)[]): Sym | undefined {
  let out: Sym | undefined = symConst(1);
  for (const x of xs) {
    if (!x || !out) return undefined;
    out = symMul(out, x);
  }
  return out;
}

/** Output size of a convolution or pooling window along one dim (PyTorch's formula, floor mode). */
export function convOut(size: Sym | undefined, kernel: Sym | undefined, stride: Sym | undefined, padding: Sym | undefined, dilation: Sym | undefined): Sym | undefined {
  if (!size || !kernel || !stride || !padding || !dilation) return undefined;
  const span = symMul(dilation, symSub(kernel, symConst(1)));
  const twoPad = symMul(symConst(2), padding);
  if (!span || !twoPad) return undefined;
  const inner = symSub(symSub(symAdd(size, twoPad), span), symConst(1));
  return symAdd(symFloorDiv(inner, stride), symConst(1));
}

/** Output size of a transposed convolution along one dim. */
export function convTransposeOut(size: Sym | undefined, kernel: Sym | undefined, stride: Sym | undefined, padding: Sym | undefined, outputPadding: Sym | undefined, dilation: Sym | undefined): Sym | undefined {
  if (!size || !kernel || !stride || !padding || !outputPadding || !dilation) return undefined;
  const grown = symMul(symSub(size, symConst(1)), stride);
  const span = symMul(dilation, symSub(kernel, symConst(1)));
  const twoPad = symMul(symConst(2), padding);
  if (!grown || !span || !twoPad) return undefined;
  return symAdd(symAdd(symSub(grown, twoPad), span), symAdd(outputPadding, symConst(1)));
}

function isOne(d: Sym | undefined): boolean {
  return d !== undefined && constValue(d) === 1;
}

/**
 * Broadcasting of two shapes (`a + b`): a dim is known when both sides agree, when one side is 1, or when one
 * side is a constant other than 1 (then the other must be 1 or equal, or PyTorch raises).
 */
export function broadcast(a: ShapeFact, b: ShapeFact): ShapeFact {
  const rank = Math.max(a.dims.length, b.dims.length);
  const dims: (Sym | undefined)[] = [];
  const origins: (number | undefined)[] = [];
  for (let i = 0; i < rank; i++) {
    const ia = a.dims.length - rank + i;
    const ib = b.dims.length - rank + i;
    const da = ia >= 0 ? a.dims[ia] : symConst(1);
    const db = ib >= 0 ? b.dims[ib] : symConst(1);
    const oa = ia >= 0 ? a.origins[ia] : undefined;
    const ob = ib >= 0 ? b.origins[ib] : undefined;
    if (da && db && symEquals(da, db)) {
      dims.push(da);
      origins.push(oa ?? ob);
    } else if (isOne(db) || (da && constValue(da) !== undefined && !isOne(da) && !db)) {
      dims.push(da);
      origins.push(oa);
    } else if (isOne(da) || (db && constValue(db) !== undefined && !isOne(db) && !da)) {
      dims.push(db);
      origins.push(ob);
    } else {
      dims.push(undefined);
      origins.push(undefined);
    }
  }
  return { dims, origins };
}

/** Per-dim merge of the shapes two exclusive branches produce (a phi): only what both agree on is known. */
export function agree(shapes: readonly (ShapeFact | undefined)[]): ShapeFact | undefined {
  const [first, ...rest] = shapes;
  if (!first || rest.some((s) => !s || s.dims.length !== first.dims.length)) return undefined;
  const dims = first.dims.map((d, i) => (d && rest.every((s) => s!.dims[i] && symEquals(s!.dims[i]!, d)) ? d : undefined));
  return { dims, origins: first.origins.map((o, i) => (dims[i] ? o : undefined)) };
}

/** One entry of a `view`/`reshape` target: a size, "the input's dim k" (`x.size(0)`), -1, or unknown. */
export type ViewEntry = { kind: "size"; sym: Sym } | { kind: "inputDim"; index: number } | { kind: "infer" } | { kind: "unknown" };

/** The shape `view`/`reshape` produce; the `-1` entry is solved when the sizes allow it. */
export function viewShape(input: ShapeFact | undefined, entries: readonly ViewEntry[], origin: number): ShapeFact {
  const dims: (Sym | undefined)[] = [];
  const origins: (number | undefined)[] = [];
  for (const e of entries) {
    if (e.kind === "size") {
      dims.push(e.sym);
      origins.push(origin);
    } else if (e.kind === "inputDim") {
      dims.push(input?.dims[e.index]);
      origins.push(input?.origins[e.index]);
    } else {
      dims.push(undefined);
      origins.push(origin);
    }
  }
  const inferAt = entries.findIndex((e) => e.kind === "infer");
  if (inferAt >= 0 && input && entries.filter((e) => e.kind === "infer").length === 1) dims[inferAt] = solveInferred(input, entries);
  return { dims, origins };
}

/** `-1` in a view: the input's element count divided by the other entries, cancelling dims taken as they are. */
function solveInferred(input: ShapeFact, entries: readonly ViewEntry[]): Sym | undefined {
  const remaining: (Sym | undefined)[] = [...input.dims];
  const divisors: Sym[] = [];
  const taken = new Set<number>();
  for (const e of entries) {
    if (e.kind === "infer") continue;
    if (e.kind === "unknown") return undefined;
    if (e.kind === "inputDim") {
      if (taken.has(e.index)) return undefined;
      taken.add(e.index);
      remaining[e.index] = symConst(1); // the entry keeps that dim: it does not divide the rest
      continue;
    }
    const same = remaining.findIndex((d) => d !== undefined && symEquals(d, e.sym));
    if (same >= 0 && constValue(e.sym) === undefined) remaining[same] = symConst(1);
    else divisors.push(e.sym);
  }
  const numerator = mulAll(remaining);
  const divisor = mulAll(divisors);
  if (!numerator || !divisor || constValue(divisor) === undefined || constValue(divisor) === 0) return undefined;
  return symFloorDiv(numerator, divisor);
}

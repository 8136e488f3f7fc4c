/**
 * Symbolic integer expressions in a canonical polynomial form, so that `planes * 4`, `4 * planes` and
 * `planes * self.expansion` (expansion = 4) compare equal. Anything that is not a polynomial (floor division
 * by a symbol, `min`, an unknown call) becomes an opaque atom keyed by its canonical text: equal text is
 * equal, different text is "not known to be equal", never "known different".
 */
export interface Sym {
  /** monomial key ("" for the constant, "a*b*b" otherwise, atoms sorted) → coefficient */
  readonly terms: ReadonlyMap<string, number>;
}

const MAX_TERMS = 64;

function make(terms: Map<string, number>): Sym {
  for (const [k, v] of terms) if (v === 0) terms.delete(k);
  return { terms };
}

/** Small integer constants, shared: shape arithmetic makes them by the thousand, and a Sym is never mutated. */
const SMALL_CONSTANTS = new Map<number, Sym>();
const ZERO: Sym = { terms: new Map() };

export function symConst(n: number): Sym {
  if (n === 0) return ZERO;
  if (Number.isInteger(n) && n >= -4096 && n <= 4096) {
    let s = SMALL_CONSTANTS.get(n);
    if (!s) {
      s = { terms: new Map([["", n]]) };
      SMALL_CONSTANTS.set(n, s);
    }
    return s;
  }
  return make(new Map([["", n]]));
}

export function symAtom(name: string): Sym {
  return make(new Map([[name, 1]]));
}

export function constValue(s: Sym): number | undefined {
  if (s.terms.size === 0) return 0;
  if (s.terms.size === 1 && s.terms.has("")) return s.terms.get("");
  return undefined;
}

export function symAdd(a: Sym, b: Sym): Sym {
  if (b.terms.size === 0) return a;
  if (a.terms.size === 0) return b;
  const ac = constValue(a);
  const bc = constValue(b);
  if (ac !== undefined && bc !== undefined) return symConst(ac + bc);
  const t = new Map(a.terms);
  for (const [k, v] of b.terms) t.set(k, (t.get(k) ?? 0) + v);
  return make(t);
}

export function symNeg(a: Sym): Sym {
  const c = constValue(a);
  if (c !== undefined) return symConst(-c);
  return make(new Map([...a.terms].map(([k, v]) => [k, -v])));
}

export function symSub(a: Sym, b: Sym): Sym {
  const ac = constValue(a);
  const bc = constValue(b);
  if (ac !== undefined && bc !== undefined) return symConst(ac - bc);
  if (bc === 0) return a;
  return symAdd(a, symNeg(b));
}

/**
 * The atoms of a monomial key, split at the `*` that joins them: one inside brackets belongs to an opaque atom
 * (`int(c2 * 0.5)`, `x.shape[0]`) and stays with it.
 */
function keyAtoms(key: string): string[] {
  if (!key.includes("(") && !key.includes("[")) return key.split("*");
  const atoms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < key.length; i++) {
    const ch = key[i];
    if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") depth--;
    else if (ch === "*" && depth === 0) {
      atoms.push(key.slice(start, i));
      start = i + 1;
    }
  }
  atoms.push(key.slice(start));
  return atoms;
}

function mulKeys(a: string, b: string): string {
  if (a === "") return b;
  if (b === "") return a;
  return [...keyAtoms(a), ...keyAtoms(b)].sort().join("*");
}

export function symMul(a: Sym, b: Sym): Sym | undefined {
  const ac = constValue(a);
  const bc = constValue(b);
  if (ac !== undefined && bc !== undefined) return symConst(ac * bc);
  const t = new Map<string, number>();
  for (const [ka, va] of a.terms) {
    for (const [kb, vb] of b.terms) {
      const k = mulKeys(ka, kb);
      t.set(k, (t.get(k) ?? 0) + va * vb);
    }
  }
  return t.size > MAX_TERMS ? undefined : make(t);
}

/** `a // b`: exact when every coefficient divides; otherwise an opaque atom. */
export function symFloorDiv(a: Sym, b: Sym): Sym {
  const bc = constValue(b);
  const ac = constValue(a);
  if (ac !== undefined && bc !== undefined && bc !== 0) return symConst(Math.floor(ac / bc));
  if (bc !== undefined && bc !== 0 && [...a.terms.values()].every((v) => Number.isInteger(v / bc))) {
    return make(new Map([...a.terms].map(([k, v]) => [k, v / bc])));
  }
  return symAtom(`(${symToString(a)})//(${symToString(b)})`);
}

/** `a / b` (true division) of integers. */
export function symTrueDiv(a: Sym, b: Sym): Sym {
  const bc = constValue(b);
  const ac = constValue(a);
  if (ac !== undefined && bc !== undefined && bc !== 0) return symConst(ac / bc);
  if (bc !== undefined && bc !== 0) return make(new Map([...a.terms].map(([k, v]) => [k, v / bc])));
  return symAtom(`(${symToString(a)})/(${symToString(b)})`);
}

/** `int(a)`: truncation of constants; a polynomial with integer coefficients is already an int. */
export function symInt(a: Sym): Sym {
  const c = constValue(a);
  if (c !== undefined) return symConst(Math.trunc(c));
  if ([...a.terms.values()].every(Number.isInteger)) return a;
  return symAtom(`int(${symToString(a)})`);
}

/** An opaque function of its arguments, e.g. `max(a, 8)`; constant arguments are folded by `fold`. */
export function symApply(name: string, args: Sym[], fold?: (xs: number[]) => number): Sym {
  const consts = args.map(constValue);
  if (fold && consts.every((c) => c !== undefined)) return symConst(fold(consts as number[]));
  return symAtom(`${name}(${args.map(symToString).join(", ")})`);
}

export function symEquals(a: Sym, b: Sym): boolean {
  return symKey(a) === symKey(b);
}

/** True only when the two are certainly different: their difference is a non-zero constant. */
export function symKnownDifferent(a: Sym, b: Sym): boolean {
  const d = constValue(symSub(a, b));
  return d !== undefined && d !== 0;
}

export function symKey(a: Sym): string {
  return [...a.terms].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${v}:${k}`).join("+");
}

export function symAtoms(a: Sym): string[] {
  const out = new Set<string>();
  for (const k of a.terms.keys()) if (k !== "") for (const atom of keyAtoms(k)) out.add(atom);
  return [...out];
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}

/** Readable form: `planes * 4`, `2 * a + 1`. */
export function symToString(a: Sym): string {
  if (a.terms.size === 0) return "0";
  const parts: string[] = [];
  const entries = [...a.terms].sort(([x], [y]) => (x === "" ? 1 : y === "" ? -1 : x < y ? -1 : 1));
  for (const [k, v] of entries) {
    const atoms = k === "" ? [] : keyAtoms(k);
    const abs = Math.abs(v);
    let body: string;
    if (atoms.length === 0) body = formatNumber(abs);
    else body = abs === 1 ? atoms.join(" * ") : `${atoms.join(" * ")} * ${formatNumber(abs)}`;
    if (parts.length === 0) parts.push(v < 0 ? `-${body}` : body);
    else parts.push(v < 0 ? `- ${body}` : `+ ${body}`);
  }
  return parts.join(" ");
}

/**
 * Certainly different when every atom of the difference stands for a positive integer (a channel count such
 * as the `__init__` parameter `planes`): `planes * 2` and `planes` differ by `planes`, which is never 0. The
 * difference must be a non-zero polynomial whose coefficients all have one sign; opaque atoms (`min(a, 8)`,
 * `a // 4`, loop iterations) may be 0 and make the answer "not known".
 */
export function symDifferentIfPositive(a: Sym, b: Sym, isPositiveAtom: (atom: string) => boolean): boolean {
  const d = symSub(a, b);
  if (d.terms.size === 0) return false;
  if (!symAtoms(d).every(isPositiveAtom)) return false;
  const signs = new Set([...d.terms.values()].map(Math.sign));
  return signs.size === 1;
}

import type { Closure, ListItem, ModuleInstance, Value } from "../../model/values.js";
import type { SizeExpr } from "../../model/graph.js";
import { constValue, symKey, type Sym } from "../../model/symbolic.js";

/** Raised when a file exceeds an analysis budget; the graph is then marked incomplete. */
export class BudgetExceeded extends Error {
  constructor(readonly what: string) {
    super(`analysis budget exceeded: ${what}`);
  }
}

export const LIMITS = {
  /** Nested inlined calls (helpers, submodule forwards, constructors). */
  inlineDepth: 24,
  /** Statements and expressions evaluated for one graph. */
  steps: 200_000,
  /** Statements and expressions evaluated for all the graphs of one file (many classes that each hit `steps`). */
  fileSteps: 1_000_000,
  /** Graph nodes in one forward graph. */
  nodes: 20_000,
  /** A loop over a known count up to this size is unrolled; larger or unknown counts unroll twice. */
  unroll: 16,
  /** Items of a known list or module container iterated one by one. */
  iterateItems: 256,
  /** Expressions and statements nested inside each other (`((((x))))`, `a + b + c + …`): keeps the JS stack safe. */
  nesting: 400,
  /** Items in one list, tuple or module container (`[bn] * 256 * 256`, a list doubled in a loop). */
  listItems: 10_000,
};

/** Throws when a list would grow past LIMITS.listItems: repeated doubling must not exhaust memory. */
export function checkListSize(size: number): void {
  if (size > LIMITS.listItems) throw new BudgetExceeded(`a list of more than ${LIMITS.listItems} items`);
}

/** Evaluation steps left for one file, shared by the interpreters of its model classes. */
export class FileBudget {
  used = 0;

  spend(): void {
    if (++this.used > LIMITS.fileSteps) throw new BudgetExceeded(`more than ${LIMITS.fileSteps} evaluation steps in this file`);
  }
}

/** Whether an error is V8's stack overflow (a last resort: the nesting budget should stop recursion first). */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** Python truthiness when it is known. */
export function truthiness(v: Value): boolean | undefined {
  switch (v.k) {
    case "bool":
      return v.b;
    case "none":
      return false;
    case "num": {
      const c = constValue(v.sym);
      return c === undefined ? undefined : c !== 0;
    }
    case "str":
      return v.s.length > 0;
    case "tuple":
      return v.items.length > 0;
    case "list":
      return v.box.exact ? v.box.items.length > 0 : undefined;
    case "instance":
    case "factory":
    case "function":
    case "qualname":
      return true;
    default:
      return undefined;
  }
}

/** Identity of a value for merging two branches: same key → same value. */
export function valueKey(v: Value): string | undefined {
  switch (v.k) {
    case "instance":
      return `i${v.inst.id}`;
    case "tensor":
      return `t${v.node}`;
    case "num":
      return `n${symKey(v.sym)}`;
    case "str":
      return `s${v.s}`;
    case "bool":
      return `b${v.b}`;
    case "none":
      return "none";
    case "qualname":
      return `q${v.name}`;
    case "function":
      return `f${v.def.range.startIndex}`;
    case "factory":
      return v.qualname ? `c${v.qualname}${v.boundArgs.length}${v.boundKwargs.size}` : v.userClass ? `u${v.userClass.name}` : undefined;
    default:
      return undefined;
  }
}

/** Module instances reachable from a value (through tuples, lists, dicts). */
export function instancesIn(v: Value, out: ModuleInstance[] = [], depth = 0): ModuleInstance[] {
  if (depth > 8) return out;
  switch (v.k) {
    case "instance":
      out.push(v.inst);
      break;
    case "tuple":
      for (const item of v.items) instancesIn(item, out, depth + 1);
      break;
    case "list":
      for (const item of v.box.items) instancesIn(item.value, out, depth + 1);
      break;
    case "dict":
      for (const item of v.entries.values()) instancesIn(item.value, out, depth + 1);
      break;
    case "function":
      // A nested function carries the modules its body names from the enclosing function.
      if (v.closure) {
        for (const name of new Set(v.def.body.descendantsOfType("identifier").map((n) => n.text))) {
          const captured = closureValue(v.closure, name);
          if (captured && captured !== v) instancesIn(captured, out, depth + 1);
        }
      }
      break;
    default:
      break;
  }
  return out;
}

/** A name as a nested function sees it: its enclosing functions' names, innermost first. */
export function closureValue(closure: Closure | undefined, name: string): Value | undefined {
  for (let c = closure; c; c = c.outer) {
    const v = c.env.get(name);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Marks a module and everything inside it as passed to code bnlint cannot see. */
export function markEscaped(inst: ModuleInstance, seen = new Set<number>()): void {
  if (seen.has(inst.id)) return;
  seen.add(inst.id);
  inst.escaped = true;
  for (const v of inst.attrs.values()) for (const child of instancesIn(v)) markEscaped(child, seen);
  for (const item of inst.children ?? []) for (const child of instancesIn(item.value)) markEscaped(child, seen);
  for (const item of inst.dictChildren?.values() ?? []) for (const child of instancesIn(item.value)) markEscaped(child, seen);
}

export function escapeValue(v: Value): void {
  for (const inst of instancesIn(v)) markEscaped(inst);
}

/** Tensor graph nodes inside a value, in order. */
export function tensorsIn(v: Value, out: number[] = [], depth = 0): number[] {
  if (depth > 8) return out;
  switch (v.k) {
    case "tensor":
      out.push(v.node);
      break;
    case "tuple":
      for (const item of v.items) tensorsIn(item, out, depth + 1);
      break;
    case "list":
      for (const item of v.box.items) tensorsIn(item.value, out, depth + 1);
      break;
    case "dict":
      for (const item of v.entries.values()) tensorsIn(item.value, out, depth + 1);
      break;
    default:
      break;
  }
  return out;
}

export function listItems(v: Value): { items: ListItem[]; exact: boolean } | undefined {
  if (v.k === "list") return { items: v.box.items, exact: v.box.exact };
  if (v.k === "tuple") return { items: v.items.map((value) => ({ value })), exact: true };
  if (v.k === "instance" && v.inst.children) return { items: v.inst.children, exact: v.inst.childrenExact ?? true };
  return undefined;
}

export function numOf(v: Value): Sym | undefined {
  if (v.k === "num") return v.sym;
  if (v.k === "unknown") return v.sym;
  if (v.k === "bool") return { terms: new Map([["", v.b ? 1 : 0]]) };
  return undefined;
}

/** Name of the loop-iteration atom that stands for "the j-th value of the loop variable". */
export function iterationAtom(loopId: number, iteration: number): string {
  return `__iter${loopId}_${iteration}`;
}

export function parseIterationAtom(sym: Sym): number | undefined {
  if (sym.terms.size !== 1) return undefined;
  const [[key, coef]] = [...sym.terms];
  const m = /^__iter\d+_(\d+)$/.exec(key);
  return m && coef === 1 ? Number(m[1]) : undefined;
}

/** A size only the model's run knows: one size of a tensor, or arithmetic on such sizes. */
export function isRunTimeSize(v: Value): boolean {
  return v.k === "unknown" && ((!!v.dims && v.dims.index !== undefined) || !!v.size);
}

/** A value as a size the executor can evaluate: a run-time size, or a known number. */
export function sizeExprOf(v: Value): SizeExpr | undefined {
  if (v.k === "unknown" && v.dims && v.dims.index !== undefined) return { dims: v.dims };
  if (v.k === "unknown" && v.size) return v.size;
  const sym = v.k === "num" ? v.sym : undefined;
  const c = sym ? constValue(sym) : undefined;
  return c !== undefined ? { num: c } : undefined;
}

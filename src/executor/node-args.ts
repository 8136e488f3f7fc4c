/** Reads a graph node's non-tensor arguments (`dim=1`, `(2, 2)`, `x.size(0)`) as numbers. */
import type { ExtraArg, GraphNode } from "../model/graph.js";
import { constValue } from "../model/symbolic.js";
import { NotExecutable } from "./module-config.js";
import { evalSize } from "./sizes.js";

/** `x.size(0)`, `x.shape[0]`, `len(x)`: the batch dimension, the same for every tensor of a forward pass. */
const BATCH_SIZE_TEXT = /^\s*[\w.]+\s*(\.size\(\s*0?\s*\)(\[0\])?|\.shape\[0\]|\.size\(\)\[0\])\s*$|^\s*len\(\s*[\w.]+\s*\)\s*$/;

export type Scalar = number | number[] | null;

export class NodeArgs {
  /**
   * `offset` skips the receiver of a method call; `shapeOf` gives a computed tensor's shape, for sizes read
   * off it (`size=lat.shape[-2:]`).
   */
  constructor(readonly node: GraphNode, readonly batch: number, readonly offset = 0, private readonly shapeOf?: (node: number) => number[]) {}

  private raw(index: number, keyword: string): ExtraArg | undefined {
    return this.node.extra?.kwargs.get(keyword) ?? this.node.extra?.args[index + this.offset];
  }

  /** Positional arguments after the offset (`x.view(a, b, c)` gives `a, b, c`). */
  get positionalCount(): number {
    return Math.max(0, (this.node.extra?.args.length ?? 0) - this.offset);
  }

  private value(a: ExtraArg, what: string): Scalar {
    switch (a.kind) {
      case "num": {
        const c = constValue(a.sym);
        if (c === undefined) throw new NotExecutable(`\`${what}\`, whose value bnlint does not know`, this.node.range.start.line);
        return c;
      }
      case "tuple": {
        const items = a.items.map((i) => this.value(i, what));
        if (items.some((i) => typeof i !== "number")) throw new NotExecutable(`a nested \`${what}\``, this.node.range.start.line);
        return items as number[];
      }
      case "other":
        if (a.text === "None") return null;
        // Python's booleans are the integers 1 and 0 (`ceil_mode=True` reads as 1).
        if (a.text === "True" || a.text === "False") return a.text === "True" ? 1 : 0;
        if (BATCH_SIZE_TEXT.test(a.text)) return this.batch;
        throw new NotExecutable(`\`${a.text}\`, whose value bnlint does not know`, this.node.range.start.line);
      case "tensor":
        throw new NotExecutable(`a tensor as \`${what}\``, this.node.range.start.line);
      case "slice":
        throw new NotExecutable(`a slice as \`${what}\``, this.node.range.start.line);
      case "size":
        if (!this.shapeOf) throw new NotExecutable(`\`${a.text}\`, whose value bnlint does not know`, this.node.range.start.line);
        return evalSize(a.expr, this.shapeOf, this.node.range.start.line);
      case "dims": {
        if (!this.shapeOf) throw new NotExecutable(`\`${a.text}\`, whose value bnlint does not know`, this.node.range.start.line);
        const shape = this.shapeOf(a.dims.node);
        const at = (i: number) => (i < 0 ? shape.length + i : i);
        if (a.dims.index !== undefined) {
          const d = shape[at(a.dims.index)];
          if (d === undefined) throw new NotExecutable(`\`${a.text}\`: dimension ${a.dims.index} of a ${shape.length}-d tensor`, this.node.range.start.line);
          return d;
        }
        return shape.slice(a.dims.start === undefined ? 0 : at(a.dims.start), a.dims.end === undefined ? shape.length : at(a.dims.end));
      }
    }
  }

  /** The value of an argument taken apart by the caller (a bound of a slice, an index). */
  scalar(a: ExtraArg, what: string): Scalar {
    return this.value(a, what);
  }

  /** Argument `index` as the graph recorded it, or undefined when absent. */
  arg(index: number, keyword: string): ExtraArg | undefined {
    return this.raw(index, keyword);
  }

  has(index: number, keyword: string): boolean {
    return this.raw(index, keyword) !== undefined;
  }

  get(index: number, keyword: string, fallback?: Scalar): Scalar {
    const a = this.raw(index, keyword);
    if (a === undefined) {
      if (fallback === undefined) throw new NotExecutable(`\`${this.node.target}\` without \`${keyword}\``, this.node.range.start.line);
      return fallback;
    }
    return this.value(a, keyword);
  }

  number(index: number, keyword: string, fallback?: number): number {
    const v = this.get(index, keyword, fallback);
    if (typeof v !== "number") throw new NotExecutable(`\`${this.node.target}(${keyword}=…)\`, which is not a number`, this.node.range.start.line);
    return v;
  }

  ints(index: number, keyword: string, rank: number, fallback?: number | null): number[] | null {
    const v = this.get(index, keyword, fallback);
    if (v === null) return null;
    if (typeof v === "number") return Array(rank).fill(v);
    if (v.length === rank) return v;
    throw new NotExecutable(`\`${this.node.target}(${keyword}=…)\` has ${v.length} values, expected ${rank}`, this.node.range.start.line);
  }

  /** Every positional argument from `index` on, flattened (`view(n, -1)` and `view((n, -1))`). */
  rest(index: number): number[] {
    const out: number[] = [];
    for (let i = index; i < this.positionalCount; i++) {
      const v = this.value(this.node.extra!.args[i + this.offset], "shape");
      if (v === null) throw new NotExecutable("`None` in a shape", this.node.range.start.line);
      out.push(...(typeof v === "number" ? [v] : v));
    }
    return out;
  }

  /** Tensor node ids inside argument `index` (`torch.cat((a, b), 1)`). */
  tensors(index: number, keyword: string): number[] {
    const a = this.raw(index, keyword);
    const walk = (x: ExtraArg | undefined): number[] => (!x ? [] : x.kind === "tensor" ? [x.node] : x.kind === "tuple" ? x.items.flatMap(walk) : []);
    return walk(a);
  }

  /** `True` / `False` (`None` counts as false), or `fallback` when absent. */
  bool(index: number, keyword: string, fallback: boolean): boolean {
    const a = this.raw(index, keyword);
    if (a === undefined) return fallback;
    if (a.kind === "other" && (a.text === "True" || a.text === "False" || a.text === "None")) return a.text === "True";
    if (a.kind === "num" && (constValue(a.sym) === 0 || constValue(a.sym) === 1)) return constValue(a.sym) === 1;
    throw new NotExecutable(`\`${this.node.target}(${keyword}=…)\`, whose value bnlint does not know`, this.node.range.start.line);
  }

  /** A string literal argument (`mode="bilinear"`), or `fallback` when absent; anything else is not executable. */
  string(index: number, keyword: string, fallback: string): string {
    const a = this.raw(index, keyword);
    if (a === undefined) return fallback;
    const m = a.kind === "other" ? /^[rbuRBU]?(["'])(.*)\1$/.exec(a.text) : null;
    if (!m) throw new NotExecutable(`\`${this.node.target}(${keyword}=…)\`, which is not a string literal`, this.node.range.start.line);
    return m[2];
  }

  /** Argument `index` when it is a plain number (for binary operators: `x * 0.5`). */
  numberAt(index: number): number | undefined {
    const a = this.node.extra?.args[index + this.offset];
    return a?.kind === "num" ? constValue(a.sym) : undefined;
  }
}

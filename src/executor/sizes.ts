/** Evaluates sizes the analysis could only describe (`x.size(2) // 2`) once a pass knows the real shapes. */
import type { SizeExpr } from "../model/graph.js";
import { NotExecutable } from "./module-config.js";

/** `shapeOf` gives a computed tensor's (logical) shape; `line` is for the error when a size cannot be read. */
export function evalSize(e: SizeExpr, shapeOf: (node: number) => number[], line?: number): number {
  if ("num" in e) return e.num;
  if ("int" in e) return Math.trunc(evalSize(e.int, shapeOf, line));
  if ("dims" in e) {
    const shape = shapeOf(e.dims.node);
    const i = e.dims.index;
    const size = i === undefined ? undefined : shape[i < 0 ? shape.length + i : i];
    if (size === undefined) throw new NotExecutable(`size ${i} of a ${shape.length}-d tensor`, line);
    return size;
  }
  const a = evalSize(e.left, shapeOf, line);
  const b = evalSize(e.right, shapeOf, line);
  switch (e.op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0) throw new NotExecutable("a division of sizes by zero", line);
      return a / b;
    case "//":
      if (b === 0) throw new NotExecutable("a division of sizes by zero", line);
      return Math.floor(a / b);
    case "%":
      if (b === 0) throw new NotExecutable("a division of sizes by zero", line);
      return ((a % b) + b) % b; // Python's modulo takes the divisor's sign
  }
}

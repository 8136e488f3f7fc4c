/**
 * Which arm of each if/else a forward pass takes. The analysis follows every arm whose condition it cannot
 * decide; a pass knows the mode and the real sizes, so `if self.training:` or `if x.size(1) == 3:` is decided
 * here, once per pass, when the first node inside the if is reached. Conditions on anything else (a tensor's
 * values, an unknown argument) stop the run: running both arms would not be the model.
 */
import type { ArmCondition, BranchTag, ForwardGraph, GraphNode, RunCondition, RunOperand } from "../model/graph.js";
import { type Act, logicalShape } from "./act.js";
import { NotExecutable } from "./module-config.js";
import { evalSize } from "./sizes.js";

/** The line of the first if/else whose arm depends on the mode: train and eval passes then run different code. */
export function modeBranchLine(graph: ForwardGraph): number | undefined {
  const mentionsMode = (c: RunCondition): boolean =>
    c.kind === "training" || (c.kind === "not" && mentionsMode(c.arg)) || ((c.kind === "and" || c.kind === "or") && (mentionsMode(c.left) || mentionsMode(c.right)));
  const lines = [...graph.branchConditions.values()].filter((b) => b.arms.some((a) => a !== undefined && a !== "else" && mentionsMode(a))).map((b) => b.line);
  return lines.length > 0 ? Math.min(...lines) : undefined;
}

export class BranchChoices {
  private readonly taken = new Map<number, number>();

  constructor(
    private readonly graph: ForwardGraph,
    private readonly training: boolean,
    private readonly value: (id: number) => Act,
  ) {}

  /** Whether every arm in `tags` is the one this pass takes (tags run from the outermost if inward). */
  active(tags: readonly BranchTag[], line: number): boolean {
    for (const tag of tags) if (this.arm(tag.ifId, line) !== tag.arm) return false;
    return true;
  }

  /** A phi's value: the input whose arms are taken. */
  phiInput(node: GraphNode): number {
    const tags = node.phiTags;
    if (!tags) throw new NotExecutable("a value chosen at run time by an if/else", node.range.start.line);
    const i = tags.findIndex((t) => this.active(t, node.range.start.line));
    if (i < 0) throw new NotExecutable("a value chosen at run time by an if/else", node.range.start.line);
    return node.inputs[i];
  }

  private arm(ifId: number, line: number): number {
    let arm = this.taken.get(ifId);
    if (arm === undefined) {
      const conditions = this.graph.branchConditions.get(ifId);
      arm = this.decide(conditions?.arms, conditions?.line ?? line);
      this.taken.set(ifId, arm);
    }
    return arm;
  }

  private decide(arms: readonly ArmCondition[] | undefined, line: number): number {
    for (let i = 0; arms && i < arms.length; i++) {
      const when = arms[i];
      if (when === undefined) break;
      if (when === "else" || this.holds(when)) return i;
    }
    throw new NotExecutable("an if/else whose condition depends on more than the mode and the input's sizes", line);
  }

  private holds(c: RunCondition): boolean {
    switch (c.kind) {
      case "training":
        return this.training;
      case "not":
        return !this.holds(c.arg);
      case "and":
        return this.holds(c.left) && this.holds(c.right);
      case "or":
        return this.holds(c.left) || this.holds(c.right);
      case "compare": {
        const a = this.operand(c.left);
        const b = this.operand(c.right);
        switch (c.op) {
          case "==":
            return a === b;
          case "!=":
            return a !== b;
          case "<":
            return a < b;
          case ">":
            return a > b;
          case "<=":
            return a <= b;
          case ">=":
            return a >= b;
        }
      }
    }
  }

  private operand(o: RunOperand): number {
    return evalSize(o, (id) => logicalShape(this.value(id)));
  }
}

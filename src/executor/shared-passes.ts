/**
 * A variant that replaces a late BatchNorm by the identity (the model without its BatchNorm on the logits)
 * computes everything upstream of that BatchNorm exactly as the model as written does: same weights, same
 * inputs and, since its running statistics are replayed from the same training record, the same eval-mode
 * statistics. The written model's measurement passes keep the values at the border of the changed part, and
 * the variant's passes start from there instead of running the whole model again.
 */
import type { ExtraArg, ForwardGraph, GraphNode, RunCondition, SizeExpr } from "../model/graph.js";
import type { Act } from "./act.js";
import type { Tensor, Tf } from "./tensor-lib.js";
import type { Variant } from "./measure.js";

/** Nodes whose value differs from the model as written: the skipped calls and everything downstream. */
export function changedBySkip(graph: ForwardGraph, variant: Variant): Set<number> {
  const changed = new Set<number>();
  for (const n of graph.nodes) {
    const skipped = n.op === "call_module" && !!n.instance && !!variant.skip?.has(n.instance);
    if (skipped || n.inputs.some((id) => changed.has(id))) changed.add(n.id);
  }
  return changed;
}

/** Tensors a size expression reads. */
function sizeExprSources(e: SizeExpr): number[] {
  return "dims" in e ? [e.dims.node] : "op" in e ? [...sizeExprSources(e.left), ...sizeExprSources(e.right)] : "int" in e ? sizeExprSources(e.int) : [];
}

/** Tensors whose sizes a node's arguments read (`size=lat.shape[-2:]`): not inputs, but needed to run it. */
function sizeSources(n: GraphNode): number[] {
  const walk = (a: ExtraArg | undefined): number[] => {
    if (!a) return [];
    if (a.kind === "dims") return [a.dims.node];
    if (a.kind === "size") return sizeExprSources(a.expr);
    if (a.kind === "tuple") return a.items.flatMap(walk);
    if (a.kind === "slice") return [...walk(a.start), ...walk(a.stop), ...walk(a.step)];
    return [];
  };
  return [...(n.extra?.args ?? []), ...(n.extra?.kwargs.values() ?? [])].flatMap(walk);
}

/** Tensors whose sizes the if/else conditions read (`if x.size(1) == 3:`): a pass decides its arms from them. */
function conditionSources(graph: ForwardGraph): number[] {
  const walk = (c: RunCondition): number[] =>
    c.kind === "compare" ? [...sizeExprSources(c.left), ...sizeExprSources(c.right)] : c.kind === "not" ? walk(c.arg) : c.kind === "training" ? [] : [...walk(c.left), ...walk(c.right)];
  return [...graph.branchConditions.values()].flatMap((b) => b.arms.flatMap((a) => (a === undefined || a === "else" ? [] : walk(a))));
}

/** Unchanged nodes a pass of the variant reads: inputs of changed nodes (and tensors they read sizes off), and unchanged outputs. */
function border(graph: ForwardGraph, changed: ReadonlySet<number>): Set<number> {
  const out = new Set<number>();
  for (const n of graph.nodes) {
    if (!changed.has(n.id)) continue;
    for (const id of [...n.inputs, ...sizeSources(n)]) if (!changed.has(id)) out.add(id);
  }
  for (const id of graph.outputs) if (!changed.has(id)) out.add(id);
  if (changed.size > 0) for (const id of conditionSources(graph)) if (!changed.has(id)) out.add(id);
  return out;
}

export class SharedPasses {
  /** Changed nodes per planned variant, by its key. */
  private readonly changed = new Map<string, Set<number>>();
  /** What the written model's passes keep: the border of every planned variant. */
  readonly keep = new Set<number>();
  private readonly values = new Map<string, Map<number, Act>>();

  constructor(
    private readonly tf: Tf,
    private readonly graph: ForwardGraph,
  ) {}

  /** Announces a skip-only variant before the written model's passes run, so they keep what it needs. */
  plan(key: string, variant: Variant): void {
    if (variant.split?.size || !variant.skip?.size || this.changed.has(key)) return;
    const changed = changedBySkip(this.graph, variant);
    this.changed.set(key, changed);
    for (const id of border(this.graph, changed)) this.keep.add(id);
  }

  /** Stores the kept values of the written model's pass `pass` ("train:0", "eval:2", "context:1"). */
  store(pass: string, kept: Map<number, Act> | undefined): void {
    if (kept) this.values.set(pass, kept);
  }

  /** Pass options for a planned variant's pass, when the written model's same pass kept its values. */
  reuse(key: string, pass: string): { values: ReadonlyMap<number, Act>; changed: ReadonlySet<number> } | undefined {
    const changed = this.changed.get(key);
    const values = this.values.get(pass);
    return changed && values ? { values, changed } : undefined;
  }

  /** Whether `key` is a planned variant (its passes can reuse the written model's). */
  has(key: string): boolean {
    return this.changed.has(key);
  }

  dispose(): void {
    const tensors = (a: Act): Tensor[] => [a.t, ...(a.parts ?? []).flatMap(tensors)];
    for (const m of this.values.values()) this.tf.dispose([...m.values()].flatMap(tensors));
    this.values.clear();
  }
}

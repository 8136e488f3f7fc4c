/** Questions rules ask of a forward graph. Anything two rules (or a rule and the fixer) need lives here. */
import type { BranchConditions, ForwardGraph, GraphNode } from "./graph.js";
import type { ModuleInstance } from "./values.js";
import type { SourceRange } from "./source.js";
import { rangeKey } from "./source.js";
import {
  BATCHNORM_TYPES, OUTPUT_ACTIVATION_FUNCTIONS, OUTPUT_ACTIVATION_METHODS, SHAPE_ONLY_FUNCTIONS, SHAPE_ONLY_METHODS,
  SHAPE_PRESERVING_MODULES, shortName,
} from "./knowledge.js";

export function isBatchNorm(inst: ModuleInstance | undefined): inst is ModuleInstance {
  return inst?.qualname !== undefined && BATCHNORM_TYPES.has(inst.qualname);
}

/**
 * A named BatchNorm that the source range `at` configures: `at` lies in its constructor call, or is an argument
 * it was built with that is written elsewhere (`partial(nn.BatchNorm2d, momentum=0.99)`, a `**dict`).
 */
export function batchNormConfiguredAt(inst: ModuleInstance | undefined, at: SourceRange): inst is ModuleInstance {
  if (!isBatchNorm(inst) || inst.paths.length === 0) return false;
  if (at.startIndex >= inst.ctorRange.startIndex && at.endIndex <= inst.ctorRange.endIndex) return true;
  return [...inst.args, ...inst.kwargs.values()].some((a) => a.range.startIndex === at.startIndex && a.range.endIndex === at.endIndex);
}

/** `BatchNorm2d(32)`: the constructor as a reader recognises it. */
export function constructorLabel(inst: ModuleInstance): string {
  const name = inst.definedBy?.name ?? (inst.qualname ? shortName(inst.qualname) : inst.userClass?.name ?? inst.ctorText);
  const args = [...inst.args.map((a) => oneLine(a.text)), ...[...inst.kwargs].map(([k, a]) => `${k}=${oneLine(a.text)}`)];
  return `${name}(${args.join(", ")})`;
}

/** An argument written over several lines (`stride=(2,\n    2)`), on one line as a message needs it: `(2, 2)`. */
function oneLine(text: string): string {
  return text.includes("\n") ? text.replace(/([([{])\s*\n\s*/g, "$1").replace(/\s*\n\s*([)\]}])/g, "$1").replace(/\s*\n\s*/g, " ") : text;
}

/** call_module nodes that run `inst`, in program order. */
export function runsOf(graph: ForwardGraph, inst: ModuleInstance): GraphNode[] {
  return graph.nodes.filter((n) => n.op === "call_module" && n.instance === inst);
}

/** BatchNorm instances that run in the graph, each with its runs. */
export function batchNormRuns(graph: ForwardGraph): Map<ModuleInstance, GraphNode[]> {
  const out = new Map<ModuleInstance, GraphNode[]>();
  for (const n of graph.nodes) {
    if (n.op !== "call_module" || !isBatchNorm(n.instance)) continue;
    const list = out.get(n.instance) ?? [];
    list.push(n);
    out.set(n.instance, list);
  }
  return out;
}

/**
 * Two nodes in different arms of one if/else never run in the same forward pass; nor do nodes under two ifs on
 * one undecided flag that need it with opposite values (`conditions`: the graph's `branchConditions`).
 */
export function mutuallyExclusive(a: GraphNode, b: GraphNode, conditions?: ReadonlyMap<number, BranchConditions>): boolean {
  for (const ta of a.branches) {
    for (const tb of b.branches) {
      if (ta.ifId === tb.ifId) {
        if (ta.arm !== tb.arm) return true;
        continue;
      }
      const fa = conditions?.get(ta.ifId)?.flag;
      const fb = conditions?.get(tb.ifId)?.flag;
      const needs = (arm: number, negated: boolean): boolean => (arm === 0) !== negated; // the flag's truth for this arm
      if (fa && fb && fa.key === fb.key && needs(ta.arm, fa.negated) !== needs(tb.arm, fb.negated)) return true;
    }
  }
  return false;
}

/** Whether `later` depends (through its inputs) on the output of `earlier`. */
export function dependsOn(graph: ForwardGraph, later: GraphNode, earlier: GraphNode): boolean {
  const seen = new Set<number>();
  const stack = [...later.inputs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === earlier.id) return true;
    if (id < earlier.id || seen.has(id)) continue; // nodes are in program order: older ones cannot depend on it
    seen.add(id);
    stack.push(...graph.nodes[id].inputs);
  }
  return false;
}

function isPassThrough(n: GraphNode): boolean {
  return (n.op === "call_function" || n.op === "call_method") && n.inputs.length === 1;
}

const callCounts = new WeakMap<ForwardGraph, Map<number, number>>();

/** How many times each module instance is called in the graph's forward pass. */
function moduleCallCounts(graph: ForwardGraph): Map<number, number> {
  let counts = callCounts.get(graph);
  if (!counts) {
    counts = new Map();
    for (const n of graph.nodes) if (n.op === "call_module" && n.instance) counts.set(n.instance.id, (counts.get(n.instance.id) ?? 0) + 1);
    callCounts.set(graph, counts);
  }
  return counts;
}

/**
 * What produced a tensor, looking through single-input functions and methods (relu, view, pooling):
 * `module#<id>` for a module, `input` for a forward argument, undefined when an opaque step is in the way.
 */
export function producerSignature(graph: ForwardGraph, nodeId: number, depth = 0): string | undefined {
  let n = graph.nodes[nodeId];
  while (isPassThrough(n)) n = graph.nodes[n.inputs[0]];
  switch (n.op) {
    case "call_module": {
      if (!n.instance) return `module:${n.target}`;
      // Inside a shared module's input, a module created during forward (a projector built lazily behind a
      // caching decorator bnlint does not model) may be one object at run time: no signature.
      if (depth > 0 && n.instance.paths.length === 0) return undefined;
      const plain = `module#${n.instance.id}`;
      // A module run more than once (CBAM's shared MLP on the average- and the max-pooled descriptor) produces
      // what its input makes of it: the signature follows the input. Unknown inputs keep the plain signature.
      if (depth > 4 || (moduleCallCounts(graph).get(n.instance.id) ?? 0) < 2 || n.inputs.length === 0) return plain;
      const parts = n.inputs.map((i) => producerSignature(graph, i, depth + 1));
      return parts.some((p) => p === undefined) ? plain : `${plain}(${parts.join(",")})`;
    }
    case "input":
      return "input";
    case "opaque":
      return undefined;
    default: {
      if (depth > 4 || n.inputs.length === 0) return undefined;
      const parts = n.inputs.map((i) => producerSignature(graph, i, depth + 1));
      if (parts.some((p) => p === undefined)) return undefined;
      return `${n.op}:${n.target}(${parts.join(",")})`;
    }
  }
}

/** The node whose output feeds `node`, looking through shape-only steps. */
export function meaningfulProducer(graph: ForwardGraph, node: GraphNode): GraphNode | undefined {
  let id = node.inputs[0];
  while (id !== undefined) {
    const n = graph.nodes[id];
    if (!isShapeOnly(n)) return n;
    id = n.inputs[0];
  }
  return undefined;
}

export function isShapeOnly(n: GraphNode): boolean {
  if (n.op === "call_method") return SHAPE_ONLY_METHODS.has(n.target);
  if (n.op === "call_function") return SHAPE_ONLY_FUNCTIONS.has(n.target);
  if (n.op === "call_module") return n.instance?.qualname !== undefined && (SHAPE_PRESERVING_MODULES.has(n.instance.qualname) || n.instance.qualname === "torch.nn.Flatten");
  return false;
}

export function isOutputActivation(n: GraphNode): boolean {
  if (n.op === "call_method") return OUTPUT_ACTIVATION_METHODS.has(n.target);
  if (n.op === "call_function") return OUTPUT_ACTIVATION_FUNCTIONS.has(n.target);
  if (n.op === "call_module") return n.instance?.qualname !== undefined && OUTPUT_ACTIVATION_FUNCTIONS.has(n.instance.qualname);
  return false;
}

/** Whether `node`'s output is returned by the model, through shape-only steps and output activations only. */
export function reachesOutputUnchanged(graph: ForwardGraph, node: GraphNode): boolean {
  return nodesReachingOutputUnchanged(graph).has(node.id);
}

const reachingOutputCache = new WeakMap<ForwardGraph, Set<number>>();

/**
 * Every node whose output reaches the model's output unchanged, computed once per graph in one backward sweep
 * (a consumer always comes after its inputs), so asking for each BatchNorm run stays linear in the graph size.
 */
function nodesReachingOutputUnchanged(graph: ForwardGraph): Set<number> {
  const cached = reachingOutputCache.get(graph);
  if (cached) return cached;
  const reaching = new Set<number>();
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const c = graph.nodes[k];
    const passes = c.op === "output" || reaching.has(c.id);
    if (!passes) continue;
    if (c.op === "output") {
      for (const i of c.inputs) reaching.add(i);
    } else if (c.op === "phi") {
      for (const i of c.inputs) reaching.add(i);
    } else if ((isShapeOnly(c) || isOutputActivation(c)) && c.inputs[0] !== undefined) {
      reaching.add(c.inputs[0]);
    }
  }
  reachingOutputCache.set(graph, reaching);
  return reaching;
}

/** The call chain of a run: each inlining frame's call, then the node itself. */
export function callChain(node: GraphNode): SourceRange[] {
  return [...node.callStack.map((f) => f.range), node.range];
}

/**
 * Where a run is "called" as a reader sees it, relative to a reference run: the first level of the inlining
 * stack at which the two differ (the helper call, the submodule call, the Sequential entry). Runs that differ
 * nowhere are iterations of one loop, and their site is the call itself.
 */
export function siteRelativeTo(node: GraphNode, reference: GraphNode): SourceRange {
  const a = callChain(node);
  const b = callChain(reference);
  for (let i = 0; i < a.length; i++) {
    if (i >= b.length || rangeKey(a[i]) !== rangeKey(b[i])) return a[i];
  }
  return a[a.length - 1];
}

export function loopOf(node: GraphNode): GraphNode["loops"][number] | undefined {
  return node.loops[node.loops.length - 1];
}

/** `self.classifier[1]` for the module path `classifier.1`, `self[1]` for a Sequential subclass's child `1`. */
export function pythonPath(path: string): string {
  return `self${path.split(".").map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("")}`;
}

/** How Python code reaches a module by its first path (`self.heads["a"][1]` for a ModuleDict child). */
export function instancePythonPath(inst: ModuleInstance): string {
  return inst.pythonPaths?.[0] ?? pythonPath(inst.paths[0]);
}

/** How Python code reaches the module a call node runs, by the path the node was recorded under. */
export function nodePythonPath(node: GraphNode): string {
  const i = node.instance ? node.instance.paths.indexOf(node.target) : -1;
  return (i >= 0 ? node.instance!.pythonPaths?.[i] : undefined) ?? pythonPath(node.target);
}

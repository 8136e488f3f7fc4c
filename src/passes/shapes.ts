/**
 * Shape propagation over a forward graph with symbolic dims (`(N, planes * 4, H, W)`). Each node gets the
 * shape its output has (`GraphNode.shape`) and, per dim, the node that decided it, so that a finding can say
 * where a channel count came from. What is not certain stays unknown: nodes in loops of unknown length,
 * calls with `*args`, opaque calls and anything the operator table does not know.
 */
import type { ExtraArg, ForwardGraph, GraphNode } from "../model/graph.js";
import { symAtom, symConst } from "../model/symbolic.js";
import { FUNCTION_SHAPES, METHOD_SHAPES, MODULE_SHAPES, type OpContext } from "./shape-ops.js";
import { agree, fact, type ShapeFact } from "./shape-math.js";
import { firstLayerShape } from "./input-shape.js";

export type { ShapeFact } from "./shape-math.js";

/** Where the shape of a forward input came from. */
export type InputShapeSource =
  | { readonly kind: "option"; readonly text: string }
  | { readonly kind: "first-layer"; readonly layer: GraphNode };

export interface GraphShapes {
  /** Shape facts by node id; a node without one has an unknown shape. */
  readonly facts: ReadonlyMap<number, ShapeFact>;
  readonly inputSources: ReadonlyMap<number, InputShapeSource>;
}

export interface ShapePassOptions {
  /** The file's text, to read receivers (`x` in `x.view(x.size(0), -1)`) and spot `*args`. */
  readonly text: string;
  /** A shape for the graph's first input (`--input-shape`). */
  readonly inputShape?: readonly number[];
  /** How the user wrote it, for messages. */
  readonly inputShapeText?: string;
}

function sliceText(text: string, r: { startIndex: number; endIndex: number } | undefined): string | undefined {
  return r ? text.slice(r.startIndex, r.endIndex) : undefined;
}

/** `f(*args)` / `f(**kw)`: arguments the graph does not list one by one. */
function hasSplat(callText: string): boolean {
  const open = callText.indexOf("(");
  return open >= 0 && /[(,]\s*\*/.test(callText.slice(open));
}

function contextFor(node: GraphNode, facts: Map<number, ShapeFact>, text: string): OpContext {
  const args = node.extra?.args ?? [];
  const offset = node.op === "call_method" ? 1 : 0; // a method's first extra argument is its receiver
  const callee = sliceText(text, node.calleeRange);
  return {
    node,
    shapeOf: (id) => (id === undefined ? undefined : facts.get(id)),
    arg: (i: number, keyword?: string): ExtraArg | undefined => args[i + offset] ?? (keyword ? node.extra?.kwargs.get(keyword) : undefined),
    ctor: (i, keyword) => node.instance?.args[i]?.value ?? node.instance?.kwargs.get(keyword)?.value,
    receiverText: node.op === "call_method" && callee ? callee.replace(/\s*\.\s*\w+$/, "") : undefined,
  };
}

function shapeOfNode(node: GraphNode, facts: Map<number, ShapeFact>, text: string): ShapeFact | undefined {
  if (node.loops.some((l) => l.count === "many")) return undefined; // its iteration count is not known
  switch (node.op) {
    case "phi":
      return agree(node.inputs.map((i) => facts.get(i)));
    case "call_module": {
      const fn = node.instance?.qualname ? MODULE_SHAPES.get(node.instance.qualname) : undefined;
      return fn?.(contextFor(node, facts, text));
    }
    case "call_function":
    case "call_method": {
      if (hasSplat(text.slice(node.range.startIndex, node.range.endIndex))) return undefined;
      const fn = (node.op === "call_function" ? FUNCTION_SHAPES : METHOD_SHAPES).get(node.target);
      return fn?.(contextFor(node, facts, text));
    }
    default:
      return undefined;
  }
}

function inputFact(graph: ForwardGraph, input: GraphNode, options: ShapePassOptions, sources: Map<number, InputShapeSource>): ShapeFact | undefined {
  if (options.inputShape && input.id === graph.inputs[0]) {
    sources.set(input.id, { kind: "option", text: options.inputShapeText ?? options.inputShape.join(",") });
    return fact(options.inputShape.map((d) => symConst(d)), options.inputShape.map(() => input.id));
  }
  const derived = firstLayerShape(graph, input);
  if (!derived) return undefined;
  sources.set(input.id, { kind: "first-layer", layer: derived.layer });
  // Sizes the first layer does not fix are named after the input (`x.shape[2]`): they cannot clash with a parameter.
  const dims = derived.dims.map((d, i) => d ?? symAtom(`${input.target}.shape[${i}]`));
  return fact(dims, dims.map(() => input.id));
}

/** Runs the pass over one graph: fills `GraphNode.shape` and returns the facts with their origins. */
export function propagateShapes(graph: ForwardGraph, options: ShapePassOptions): GraphShapes {
  const facts = new Map<number, ShapeFact>();
  const inputSources = new Map<number, InputShapeSource>();
  for (const node of graph.nodes) {
    const f = node.op === "input" ? inputFact(graph, node, options, inputSources) : shapeOfNode(node, facts, options.text);
    if (!f) continue;
    facts.set(node.id, f);
    node.shape = { dims: f.dims };
  }
  return { facts, inputSources };
}

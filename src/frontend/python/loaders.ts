/**
 * Training loops over a DataLoader whose batches can hold a single sample, feeding a model with a BatchNorm that
 * sees one value per channel per sample (BatchNorm1d on (N, C) features, or any BatchNorm after a global pooling,
 * (N, C, 1, 1)): PyTorch raises "Expected more than 1 value per channel when training".
 * Flow-insensitive: names assigned once in a unit (module level, or a function plus the module's names).
 */
import type { SyntaxNode } from "./parser.js";
import { qualifiedNameOf } from "./indexer.js";
import type { FunctionDef, ModelIndex } from "../../model/index-types.js";
import type { ForwardGraph, GraphNode, RunCondition } from "../../model/graph.js";
import type { ModuleInstance } from "../../model/values.js";
import { rangeOf, type SourceRange } from "../../model/source.js";
import { SELF_RETURNING_METHODS } from "../../model/builders.js";
import { isBatchNormType } from "../../model/knowledge.js";
import { constValue } from "../../model/symbolic.js";
import type { GraphShapes } from "../../passes/shapes.js";

export interface SmallBatchLoop {
  readonly kind: "batch-size-one" | "last-batch-one";
  readonly loaderName: string;
  /** The `DataLoader(...)` call, and its `batch_size` argument when written. */
  readonly loaderCall: SourceRange;
  readonly batchSizeArg?: SourceRange;
  readonly batchSize: number;
  readonly datasetSize?: number;
  readonly loop: SourceRange;
  readonly modelName: string;
  /** The in-file class, or the library builder call (`deeplabv3_resnet50()`). */
  readonly modelClass: string;
  readonly batchNorm: OneValueBatchNorm["batchNorm"];
  /** What the BatchNorm normalizes: `(N, C) features`, `(N, C, 1, 1) maps`. */
  readonly input: string;
}

/** A BatchNorm that sees one value per channel per sample (an instance, or a library model's by its path), and how its input looks. */
interface OneValueBatchNorm {
  readonly batchNorm: ModuleInstance | { readonly path: string; readonly ctor: string };
  readonly input: string;
}

/**
 * torchvision's DeepLabV3 heads pool the whole image to 1x1 before a BatchNorm (ASPP's image pooling, child 4 of
 * `classifier[0].convs`): trained on batches of one, they raise in training mode (a known fine-tuning crash).
 */
const LIBRARY_ONE_VALUE: ReadonlyArray<{ builder: RegExp; text: RegExp; batchNorm: { path: string; ctor: string } }> = [
  { builder: /^torchvision\.models\.segmentation\.(?:deeplabv3\.)?deeplabv3_\w+$/, text: /\bdeeplabv3_\w+/, batchNorm: { path: "classifier[0].convs[4][2]", ctor: "BatchNorm2d(256), after the ASPP image pooling's AdaptiveAvgPool2d(1)" } },
];

const DATALOADERS = new Set(["torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"]);
const TENSOR_DATASETS = new Set(["torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset"]);
const SIZED_FACTORIES = new Set(["torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty", "torch.randint", "torch.tensor"]);
const TWO_D_PRODUCERS = new Set(["torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Flatten", "torch.flatten", "flatten", "view", "reshape"]);
const ELEMENTWISE = /^(torch\.nn\.functional\.|torch\.)?(relu|relu6|gelu|elu|selu|silu|leaky_relu|sigmoid|tanh|dropout|mish|hardswish)_?$|^torch\.nn\.(ReLU|ReLU6|GELU|ELU|SELU|SiLU|LeakyReLU|PReLU|Sigmoid|Tanh|Dropout|Mish|Hardswish|Identity)$/;

function kwarg(call: SyntaxNode, name: string): SyntaxNode | undefined {
  for (const a of call.childForFieldName("arguments")?.namedChildren ?? []) {
    if (a?.type === "keyword_argument" && a.childForFieldName("name")?.text === name) return a.childForFieldName("value") ?? undefined;
  }
  return undefined;
}

function positional(call: SyntaxNode, i: number): SyntaxNode | undefined {
  const args = (call.childForFieldName("arguments")?.namedChildren ?? []).filter((a) => a && a.type !== "keyword_argument" && a.type !== "comment");
  return args[i] ?? undefined;
}

function intLiteral(node: SyntaxNode | undefined): number | undefined {
  return node?.type === "integer" ? Number(node.text.replace(/_/g, "")) : undefined;
}

/** The non-tensor arguments of a node, as constants where they are numbers (undefined otherwise). */
function constArgs(n: GraphNode): (number | undefined)[] {
  return (n.extra?.args ?? []).filter((a) => a.kind !== "tensor").map((a) => (a.kind === "num" ? constValue(a.sym) : undefined));
}

/**
 * An operation that removes, merges or moves the batch dimension: `x.squeeze(0)` (a bag of instances given as
 * a batch of one, as attention-MIL models take it), `x[0]`, `x.flatten(0, 1)`, `x.reshape(b * t, c)`,
 * `x.transpose(0, 1)`. Rows after it are not the loader's samples, so a batch of one says nothing about them.
 */
function movesBatchDimension(n: GraphNode): boolean {
  const name = n.target.replace(/^torch\./, "").replace(/_$/, "");
  const args = constArgs(n);
  const extra = (n.extra?.args ?? []).filter((a) => a.kind !== "tensor");
  switch (name) {
    case "squeeze":
      return args.length === 0 || args[0] === 0;
    case "unsqueeze":
    case "operator.getitem":
      return args[0] === 0 || (name === "operator.getitem" && extra[0]?.kind === "num");
    case "flatten":
      return args[0] === 0;
    case "transpose":
    case "swapaxes":
    case "movedim":
      return args.includes(0);
    case "permute":
      return args.length > 0 && args[0] !== 0;
    case "view":
    case "reshape":
      return extra[0]?.kind === "size" && "op" in extra[0].expr && extra[0].expr.op === "*";
    default:
      return false;
  }
}

/**
 * Whether a node upstream of `n` moves the batch dimension. An item of a module's tuple output (`out, (h, c) =
 * self.lstm(x)`) is a tensor of the batch, not a sample of it.
 */
function afterBatchMove(graph: ForwardGraph, n: GraphNode): boolean {
  const seen = new Set<number>();
  const stack = [...n.inputs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const p = graph.nodes[id];
    const tupleItem = p.target === "operator.getitem" && graph.nodes[p.inputs[0]]?.op === "call_module";
    if (!tupleItem && movesBatchDimension(p)) return true;
    stack.push(...p.inputs);
  }
  return false;
}

/**
 * The first BatchNorm of a class that sees one value per channel per sample: a BatchNorm1d after a Linear, a
 * flatten or a view, or a BatchNorm whose input's spatial sizes are all 1 by the shape pass (after a global
 * pooling such as DeepLab's image-pooling branch, `AdaptiveAvgPool2d(1)` then a 1x1 conv).
 */
function batchNormOnOneValue(graph: ForwardGraph, shapes: GraphShapes | undefined): OneValueBatchNorm | undefined {
  const label = (n: GraphNode): string => (n.op === "call_module" ? n.instance?.qualname ?? "" : n.target);
  for (const n of graph.nodes) {
    if (n.op !== "call_module" || !n.instance || !isBatchNormType(n.instance.qualname) || n.inputs.length === 0) continue;
    // `if x.shape[0] > 1: x = self.bn(x)`: the model may guard its BatchNorm against batches of one (a condition on
    // sizes, or one bnlint cannot read).
    if (n.branches.some((t) => graph.branchConditions.get(t.ifId)?.arms.some((a) => a === undefined || (a !== "else" && readsSizes(a))) ?? true)) continue;
    if (afterBatchMove(graph, n)) continue;
    if (n.instance.qualname === "torch.nn.BatchNorm1d") {
      let p = graph.nodes[n.inputs[0]];
      while (p.inputs.length === 1 && ELEMENTWISE.test(label(p))) p = graph.nodes[p.inputs[0]];
      if (TWO_D_PRODUCERS.has(label(p))) return { batchNorm: n.instance, input: "(N, C) features" };
    }
    const dims = shapes?.facts.get(n.inputs[0])?.dims;
    if (dims && dims.length >= 3 && dims.slice(2).every((d) => d !== undefined && constValue(d) === 1)) {
      return { batchNorm: n.instance, input: `(N, C, ${dims.slice(2).map(() => 1).join(", ")}) maps (one value per channel per sample)` };
    }
  }
  return undefined;
}

/** Whether an if's condition compares sizes read at run time (`x.shape[0] > 1`, `len(x) == 1`). */
function readsSizes(c: RunCondition): boolean {
  if (c.kind === "compare") return true;
  if (c.kind === "not") return readsSizes(c.arg);
  return c.kind !== "training" && (readsSizes(c.left) || readsSizes(c.right));
}

/** Calls that change which axis holds the samples (`x.view(-1, 768)` of a pre-batched item, `torch.cat`). */
const RESHAPING = /\.(view|reshape|flatten|squeeze|unsqueeze|permute|transpose|unflatten)\s*\(|\btorch\.(cat|stack|reshape|flatten)\s*\(/;

/** `name = expr` statements of a unit (not inside nested functions); names bound twice are left out. */
function singleAssignments(body: SyntaxNode): Map<string, SyntaxNode> {
  const out = new Map<string, SyntaxNode>();
  const twice = new Set<string>();
  const visit = (n: SyntaxNode): void => {
    for (const c of n.namedChildren) {
      if (!c || c.type === "function_definition" || c.type === "class_definition" || c.type === "decorated_definition") continue;
      if (c.type === "assignment") {
        const left = c.childForFieldName("left");
        const right = c.childForFieldName("right");
        if (left?.type === "identifier" && right) {
          if (out.has(left.text)) twice.add(left.text);
          out.set(left.text, right);
        }
      }
      visit(c);
    }
  };
  visit(body);
  for (const name of twice) out.delete(name);
  return out;
}

class LoopFinder {
  private readonly bnModels = new Map<string, OneValueBatchNorm>();

  constructor(private readonly index: ModelIndex, graphs: readonly ForwardGraph[], private readonly moduleNames: Map<string, SyntaxNode>, shapesOf?: (g: ForwardGraph) => GraphShapes) {
    for (const g of graphs) {
      const bn = batchNormOnOneValue(g, shapesOf?.(g));
      if (bn) this.bnModels.set(g.modelClass.name, bn);
    }
  }

  get anyModel(): boolean {
    return this.bnModels.size > 0 || LIBRARY_ONE_VALUE.some((l) => l.text.test(this.index.text));
  }

  private qname(node: SyntaxNode | null | undefined): string | undefined {
    return node ? qualifiedNameOf(node, this.index.imports) : undefined;
  }

  /** Follows a name to the expression assigned to it (in the unit, then at module level). */
  private deref(node: SyntaxNode | undefined, names: Map<string, SyntaxNode>, depth = 0): SyntaxNode | undefined {
    if (node?.type !== "identifier" || depth > 4) return node;
    const value = names.get(node.text) ?? this.moduleNames.get(node.text);
    return value ? this.deref(value, names, depth + 1) : undefined;
  }

  /** `Net()`, `Net(...).to(device)`: the in-file model class constructed. */
  private modelClassOf(node: SyntaxNode | undefined): string | undefined {
    let n = node;
    while (n?.type === "call") {
      const fn = n.childForFieldName("function");
      if (fn?.type === "identifier") return this.index.classByName.has(fn.text) ? fn.text : undefined;
      if (fn?.type !== "attribute" || !SELF_RETURNING_METHODS.has(fn.childForFieldName("attribute")?.text ?? "")) return undefined;
      n = fn.childForFieldName("object") ?? undefined;
    }
    return undefined;
  }

  /** `deeplabv3_resnet50(...)`, `models.segmentation.deeplabv3_resnet101(...).to(device)`: a library model whose BatchNorm sees one value. */
  private libraryModelOf(node: SyntaxNode | undefined): { label: string; oneValue: OneValueBatchNorm } | undefined {
    let n = node;
    while (n?.type === "call") {
      const fn = n.childForFieldName("function");
      const q = this.qname(fn);
      const known = q ? LIBRARY_ONE_VALUE.find((l) => l.builder.test(q)) : undefined;
      if (known) return { label: `${q!.slice(q!.lastIndexOf(".") + 1)}()`, oneValue: { batchNorm: known.batchNorm, input: "(N, C, 1, 1) maps (one value per channel per sample)" } };
      if (fn?.type !== "attribute" || !SELF_RETURNING_METHODS.has(fn.childForFieldName("attribute")?.text ?? "")) return undefined;
      n = fn.childForFieldName("object") ?? undefined;
    }
    return undefined;
  }

  /** Number of samples of `TensorDataset(torch.randn(1001, 8), ...)`, when written as a number. */
  private datasetSize(node: SyntaxNode | undefined, names: Map<string, SyntaxNode>): number | undefined {
    const ds = this.deref(node, names);
    if (ds?.type !== "call" || !TENSOR_DATASETS.has(this.qname(ds.childForFieldName("function")) ?? "")) return undefined;
    const first = this.deref(positional(ds, 0), names);
    if (first?.type !== "call") return undefined;
    const factory = this.qname(first.childForFieldName("function"));
    if (!factory || !SIZED_FACTORIES.has(factory)) return undefined;
    if (factory === "torch.tensor") return undefined; // the length of a literal list is not worth guessing at
    let size = factory === "torch.randint" ? kwarg(first, "size") ?? positional(first, 2) : kwarg(first, "size") ?? positional(first, 0);
    if (size?.type === "tuple" || size?.type === "list") size = size.namedChildren[0] ?? undefined;
    return intLiteral(size);
  }

  /** The call a `for` iterates when it names no loader: `DataLoader(...)`, `enumerate(DataLoader(...))`. */
  private iteratedCall(right: SyntaxNode | null): SyntaxNode | undefined {
    if (right?.type !== "call") return undefined;
    if (DATALOADERS.has(this.qname(right.childForFieldName("function")) ?? "")) return right;
    return this.iteratedCall(positional(right, 0) ?? null);
  }

  /** The loader a `for` iterates: `loader`, `enumerate(loader)`, `tqdm(loader)`. */
  private iteratedName(right: SyntaxNode | null): string | undefined {
    if (right?.type === "identifier") return right.text;
    if (right?.type === "call") return this.iteratedName(positional(right, 0) ?? null);
    return undefined;
  }

  scan(body: SyntaxNode, out: SmallBatchLoop[]): void {
    const names = singleAssignments(body);
    for (const loop of body.descendantsOfType("for_statement")) {
      if (!loop) continue;
      // `for x, y in DataLoader(ds, batch_size=1):` names no loader: the call is the loader.
      const inline = this.iteratedCall(loop.childForFieldName("right"));
      const named = inline ? undefined : this.iteratedName(loop.childForFieldName("right"));
      const loaderName = named ?? (inline ? `${inline.childForFieldName("function")!.text}(…)` : undefined);
      const loader = named ? this.deref(names.get(named) ?? this.moduleNames.get(named), names) : inline;
      if (!loaderName || loader?.type !== "call" || !DATALOADERS.has(this.qname(loader.childForFieldName("function")) ?? "")) continue;
      if (kwarg(loader, "batch_sampler") || kwarg(loader, "sampler")) continue;
      const sizeNode = kwarg(loader, "batch_size") ?? positional(loader, 1);
      // `batch_size=BATCH_SIZE` with `BATCH_SIZE = 1` at module level (or once in the unit).
      const batchSize = sizeNode ? intLiteral(this.deref(sizeNode, names)) : 1;
      if (batchSize === undefined) continue;
      const dropLast = kwarg(loader, "drop_last");
      const datasetSize = this.datasetSize(kwarg(loader, "dataset") ?? positional(loader, 0), names);
      const lastOfOne = batchSize > 1 && dropLast?.type !== "true" && datasetSize !== undefined && datasetSize % batchSize === 1;
      if (batchSize !== 1 && !lastOfOne) continue;
      const found = this.trainedModel(loop, body, names);
      if (!found) continue;
      out.push({
        kind: batchSize === 1 ? "batch-size-one" : "last-batch-one",
        loaderName,
        loaderCall: rangeOf(loader),
        batchSizeArg: sizeNode ? rangeOf(sizeNode) : undefined,
        batchSize,
        datasetSize,
        loop: rangeOf(loop),
        ...found,
      });
    }
  }

  /** A model with BatchNorm1d on features, called in a loop body that trains, and not switched to eval mode. */
  private trainedModel(loop: SyntaxNode, unit: SyntaxNode, names: Map<string, SyntaxNode>): ({ modelName: string; modelClass: string } & OneValueBatchNorm) | undefined {
    const loopBody = loop.childForFieldName("body");
    if (!loopBody) return undefined;
    const calls = loopBody.descendantsOfType("call").filter((c): c is SyntaxNode => c !== null);
    const trains = calls.some((c) => {
      const fn = c.childForFieldName("function");
      return fn?.type === "attribute" && ["backward", "step"].includes(fn.childForFieldName("attribute")?.text ?? "");
    });
    if (!trains) return undefined;
    for (const c of calls) {
      const fn = c.childForFieldName("function");
      if (fn?.type !== "identifier") continue;
      const target = this.deref(fn, names);
      const inFileClass = this.modelClassOf(target);
      const library = inFileClass ? undefined : this.libraryModelOf(target);
      const modelClass = inFileClass ?? library?.label;
      const oneValue = inFileClass ? this.bnModels.get(inFileClass) : library?.oneValue;
      if (!modelClass || !oneValue) continue;
      if (reshapedInLoop(c, loopBody)) continue;
      // BatchNorm in eval mode takes single samples: stay silent when the code switches modes at all.
      const switches = new RegExp(`\\b${fn.text}\\s*\\.\\s*(eval\\s*\\(|train\\s*\\(\\s*(mode\\s*=\\s*)?False)`);
      if (switches.test(unit.text)) continue;
      return { modelName: fn.text, modelClass, ...oneValue };
    }
    return undefined;
  }
}

/**
 * The model's input is reshaped in the loop (`x = x.view(-1, 768)` when each item is already a batch): its
 * first axis need not be the loader's batch, so the batch size says nothing.
 */
function reshapedInLoop(modelCall: SyntaxNode, loopBody: SyntaxNode): boolean {
  const arg = modelCall.childForFieldName("arguments")?.namedChildren[0];
  if (!arg) return false;
  if (RESHAPING.test(arg.text)) return true;
  if (arg.type !== "identifier") return false;
  const word = new RegExp(`(^|[^\\w.])${arg.text}($|[^\\w])`);
  return loopBody.descendantsOfType("assignment").some((a) => {
    const left = a?.childForFieldName("left");
    const right = a?.childForFieldName("right");
    return !!left && !!right && word.test(left.text) && RESHAPING.test(right.text);
  });
}

export function findSmallBatchLoops(index: ModelIndex, graphs: readonly ForwardGraph[], shapesOf?: (g: ForwardGraph) => GraphShapes): SmallBatchLoop[] {
  const root = index.tree.rootNode;
  const moduleNames = singleAssignments(root);
  const finder = new LoopFinder(index, graphs, moduleNames, shapesOf);
  if (!finder.anyModel) return [];
  const out: SmallBatchLoop[] = [];
  const units: SyntaxNode[] = [...[...index.functions.values()].map((f: FunctionDef) => f.body)];
  for (const body of units) finder.scan(body, out);
  // Module-level loops: scan the module, but only loops outside functions and classes.
  const topLoops: SmallBatchLoop[] = [];
  finder.scan(root, topLoops);
  const inFunctions = new Set(out.map((l) => l.loop.startIndex));
  for (const l of topLoops) if (!inFunctions.has(l.loop.startIndex) && !index.classes.some((c) => l.loop.startIndex >= c.range.startIndex && l.loop.endIndex <= c.range.endIndex)) out.push(l);
  return out;
}

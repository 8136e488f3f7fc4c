/** Runs a concrete forward graph on tensors: one forward pass per call, in train or eval mode. */
import type { ForwardGraph, GraphNode } from "../model/graph.js";
import type { ModuleInstance } from "../model/values.js";
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, cf, logicalShape, toCF } from "./act.js";
import { TorchError } from "./batchnorm.js";
import { NotExecutable } from "./module-config.js";
import { type OpContext, NotExecutableShape, isPlainRelu, runFunction, runMethod, runModule } from "./ops.js";
import { type BatchNormState, type LayerParams, MAX_MODEL_WEIGHTS, initLayerParams, moduleType, newBatchNormState, weightCount } from "./params.js";
import { convFilter, transposedConvFilter } from "./layers.js";
import { isBatchNorm } from "../model/queries.js";
import { isLazy, materialize } from "./lazy.js";
import { BranchChoices } from "./branches.js";
import { RECURRENT_TYPES } from "./recurrent.js";

/** Every module instance of the model: those its `__init__` created and those of submodules that run. */
export function allInstances(graph: ForwardGraph): ModuleInstance[] {
  const out = new Set(graph.instances);
  for (const n of graph.nodes) if (n.instance) out.add(n.instance);
  return [...out];
}

/** Why a graph cannot be executed at all (before running anything), or undefined. */
export function whyNotExecutable(graph: ForwardGraph): string | undefined {
  if (graph.incomplete) return `code whose analysis stopped before the end of \`${graph.modelClass.name}\`${graph.notes[0] ? ` (${graph.notes[0]})` : ""}`;
  for (const n of graph.nodes) {
    if (n.op === "opaque") return `\`${n.reason ?? n.target}\`, which bnlint cannot follow (line ${n.range.start.line})`;
    if (n.op === "phi" && !n.phiTags) return `a value chosen at run time by an if/else (line ${n.range.start.line})`;
    const loop = n.loops.find((l) => l.count === "many");
    if (loop) return `a loop with an unknown number of iterations (line ${loop.range.start.line})`;
    if (n.op === "call_module" && !n.instance?.qualname) return `the module call at line ${n.range.start.line}, which bnlint cannot follow`;
  }
  for (const c of graph.containersRun) {
    // Its children may be more than bnlint saw: running the ones it knows would be another model.
    const where = `\`${c.paths[0] ?? c.ctorText}\` (line ${c.ctorRange.start.line})`;
    if (c.escaped) return `${where}, which is handed to code bnlint cannot see and may get other modules there`;
    if (c.childrenExact === false || c.dictChildrenExact === false) return `${where}, whose modules bnlint cannot all list`;
  }
  if (graph.outputs.length === 0) return "a forward pass that returns nothing bnlint can follow";
  return undefined;
}

/** A PyTorch error raised at a node, with its text (`RuntimeError: running_mean should contain …`). */
/** Tensors alive at once during a pass, at most (the WebAssembly memory of the tensor library ends at 4 GB). */
const MAX_TENSOR_BYTES = 2 ** 31;
/** Modules whose kernel can apply a following ReLU in its output pass (XNNPACK's fused activation). */
const FUSES_RELU = /^(Conv[123]d|BatchNorm[123]d|SyncBatchNorm)$/;

export class ExecutionError extends Error {
  constructor(readonly node: GraphNode, readonly pyType: string, readonly text: string, readonly inputShape: number[] | undefined) {
    super(`${pyType}: ${text}`);
  }
}

export interface PassOptions {
  training: boolean;
  /** False: train-mode statistics without moving the running ones (a measurement pass). */
  updateStats: boolean;
  /** Called with every BatchNorm call's output (channels-first logical layout is not guaranteed). */
  onBatchNorm?: (node: GraphNode, out: Act) => void;
  /** Called with the inputs of every running-statistics update (train mode with updateStats). */
  onBatchStats?: OpContext["onBatchStats"];
  /** Node values to keep past the pass (returned in `kept`, copies the caller disposes). */
  keep?: ReadonlySet<number>;
  /**
   * Values of a pass of the model as written on the same batch in the same mode: nodes outside `changed` are
   * taken from there instead of computed (their values are the same in this variant).
   */
  reuse?: { values: ReadonlyMap<number, Act>; changed: ReadonlySet<number> };
}

export interface PassResult {
  outputs: Tensor[];
  kept?: Map<number, Act>;
  /** call_module runs per module instance id. */
  calls: Map<number, number>;
}

export class GraphExecutor {
  private readonly layers = new Map<number, { params: LayerParams; weight: Tensor }>();
  /** Tensors of modules with named parameters (recurrent layers), by instance id. */
  private readonly namedTensors = new Map<number, Map<string, Tensor>>();
  private readonly bnStates = new Map<string, BatchNormState>();
  /** Layer parameters of every module by instance id (exported for the differential test). */
  readonly layerParams = new Map<number, LayerParams>();
  /** Lazy modules as the eager modules they became at their first call, by instance id (lazy.ts). */
  private readonly materialized = new Map<number, ModuleInstance>();
  private readonly splitIds: ReadonlySet<number>;

  /**
   * `variant.split`: BatchNorm instances that get their own state at every call (the fixed model: one BatchNorm per
   * call site); all other modules are shared, with identical weights.
   */
  readonly split: ReadonlySet<ModuleInstance>;
  /** BatchNorm instances replaced by the identity (the model without a BatchNorm on its logits). */
  readonly skip: ReadonlySet<ModuleInstance>;

  constructor(readonly tf: Tf, readonly graph: ForwardGraph, readonly seed: number, variant: { split?: ReadonlySet<ModuleInstance>; skip?: ReadonlySet<ModuleInstance> } = {}) {
    this.split = variant.split ?? new Set();
    this.skip = variant.skip ?? new Set();
    this.splitIds = new Set([...this.split].map((i) => i.id));
    const instances = allInstances(graph);
    const weights = instances.reduce((n, inst) => n + (inst.qualname && !isLazy(inst) ? weightCount(inst) : 0), 0);
    if (weights > MAX_MODEL_WEIGHTS) throw new NotExecutable(`a model of ${weights.toLocaleString("en-US")} weights (more than bnlint runs; set the model's arguments with --model-args)`);
    for (const inst of instances) {
      const p = inst.qualname && !isLazy(inst) ? safeInit(inst, seed) : undefined;
      if (p) this.layerParams.set(inst.id, p);
    }
  }

  /** The module as it runs: a lazy one becomes its eager module on its first input, once. */
  private concrete(inst: ModuleInstance, input: Act): ModuleInstance {
    if (!isLazy(inst)) return inst;
    let m = this.materialized.get(inst.id);
    if (!m) {
      m = materialize(inst, input);
      this.materialized.set(inst.id, m);
    }
    return m;
  }

  /** False for a lazy module that never ran: PyTorch has no parameters or statistics for it either. */
  hasSizes(inst: ModuleInstance): boolean {
    return !isLazy(inst) || this.materialized.has(inst.id);
  }

  private layer(inst: ModuleInstance): { params: LayerParams; weight: Tensor } {
    let l = this.layers.get(inst.id);
    if (!l) {
      const params = this.layerParams.get(inst.id) ?? initLayerParams(inst, this.seed);
      if (!params) throw new NotExecutable(`\`${moduleType(inst)}\`, whose parameters the executor does not know`, inst.ctorRange.start.line);
      this.layerParams.set(inst.id, params);
      const { tf } = this;
      const type = moduleType(inst);
      const conv = /^Conv([123])d$/.exec(type);
      const weight = tf.keep(conv ? convFilter(tf, params, Number(conv[1])) : type === "ConvTranspose2d" ? transposedConvFilter(tf, params) : tf.tensor(params.weight!, params.weightShape!));
      l = { params, weight };
      this.layers.set(inst.id, l);
    }
    return l;
  }

  /** A module's parameters by PyTorch's name (`weight_ih_l0`), as tensors made once. */
  private named(inst: ModuleInstance): Map<string, Tensor> {
    let m = this.namedTensors.get(inst.id);
    if (!m) {
      const params = this.layerParams.get(inst.id) ?? initLayerParams(inst, this.seed);
      if (!params?.named) throw new NotExecutable(`\`${moduleType(inst)}\`, whose parameters the executor does not know`, inst.ctorRange.start.line);
      this.layerParams.set(inst.id, params);
      m = new Map([...params.named].map(([name, p]) => [name, this.tf.keep(this.tf.tensor(p.values, p.shape))]));
      this.namedTensors.set(inst.id, m);
    }
    return m;
  }

  /** The BatchNorm state a call uses: the instance's, or (split) one per call node. */
  batchNormState(node: GraphNode, inst: ModuleInstance): BatchNormState {
    const key = this.splitIds.has(inst.id) ? `${inst.id}@${node.id}` : String(inst.id);
    let st = this.bnStates.get(key);
    if (!st) {
      st = newBatchNormState(this.materialized.get(inst.id) ?? inst);
      this.bnStates.set(key, st);
    }
    return st;
  }

  /** State of every BatchNorm instance (unsplit), created if it never ran. */
  instanceState(inst: ModuleInstance): BatchNormState {
    return this.batchNormState({ id: -1 } as GraphNode, inst);
  }

  /** One forward pass; returned tensors are kept (the caller disposes them). */
  forward(inputs: Tensor[], opts: PassOptions): PassResult {
    const { tf, graph } = this;
    const calls = new Map<number, number>();
    const batch = inputs[0]?.shape[0] ?? 1;
    const kept = opts.keep ? new Map<number, Act>() : undefined;
    const reuse = opts.reuse;
    // Passes that keep or reuse values by node id see every node's own value: no fusion there.
    // An observer of BatchNorm outputs must see them before the ReLU: no fusion into BatchNorms then.
    const fused = opts.keep || reuse ? new Map<number, number>() : this.fusibleRelus(!opts.onBatchNorm);
    const outputs = tf.tidy(() => {
      const values = new Map<number, Act>();
      const ctx: OpContext = {
        tf,
        batch,
        bnCall: { training: opts.training, updateStats: opts.updateStats },
        layer: (inst) => this.layer(inst),
        named: (inst) => this.named(inst),
        batchNormState: (node, inst) => this.batchNormState(node, inst),
        onBatchStats: opts.onBatchStats,
        value: (id) => {
          const v = values.get(id);
          if (!v) throw new NotExecutable(`a value the executor did not compute`, graph.nodes[id]?.range.start.line);
          if (v.parts) throw new NotExecutable("a tuple of tensors used as one tensor", graph.nodes[id]?.range.start.line);
          return v;
        },
        parts: (id) => values.get(id)?.parts,
        producer: (id) => graph.nodes[id],
        reluFused: new Set(fused.values()),
      };
      const branches = new BranchChoices(graph, opts.training, ctx.value);
      let inputIndex = 0;
      for (const node of graph.nodes) {
        if (node.op === "output") continue;
        const fusedInto = fused.get(node.id);
        if (fusedInto !== undefined && values.has(fusedInto)) {
          // This ReLU ran inside the convolution before it: its value is the convolution's.
          values.set(node.id, values.get(fusedInto)!);
          if (node.op === "call_module" && node.instance) calls.set(node.instance.id, (calls.get(node.instance.id) ?? 0) + 1);
          continue;
        }
        if (node.op === "input") {
          values.set(node.id, cf(inputs[inputIndex++]));
          continue;
        }
        if (node.branches.length > 0 && !branches.active(node.branches, node.range.start.line)) continue;
        if (node.op === "phi") {
          values.set(node.id, ctx.value(branches.phiInput(node)));
          continue;
        }
        if (reuse && !reuse.changed.has(node.id)) {
          const v = reuse.values.get(node.id);
          if (v) values.set(node.id, v);
          if (node.op === "call_module" && node.instance) calls.set(node.instance.id, (calls.get(node.instance.id) ?? 0) + 1);
          continue;
        }
        values.set(node.id, this.runNode(ctx, node, calls, opts));
        // Stop before the WebAssembly memory runs out: an abort there would end the tensor library for the run.
        if (tf.memory().numBytes > MAX_TENSOR_BYTES) throw new NotExecutable(`more than ${MAX_TENSOR_BYTES / 2 ** 30} GB of tensors at these sizes (set the model's arguments with --model-args, or --input-shape)`, node.range.start.line);
      }
      const keepCopy = (v: Act): Act => ({ ...v, t: tf.keep(tf.clone(v.t)), parts: v.parts?.map(keepCopy) });
      if (kept) for (const id of opts.keep!) if (values.has(id)) kept.set(id, keepCopy(values.get(id)!));
      // A reused value belongs to another pass: the caller gets its own copy.
      return graph.outputs.map((id) => (reuse && !reuse.changed.has(id) ? tf.clone(toCF(tf, ctx.value(id))) : toCF(tf, ctx.value(id))));
    });
    return { outputs, calls, kept };
  }

  private readonly fusedRelus = new Map<boolean, Map<number, number>>();

  /**
   * ReLU nodes (by id) that can run inside the convolution or BatchNorm before them, with that node's id: the
   * ReLU is its only consumer, both run under the same branch conditions, and the node's own value is not a
   * model output.
   */
  private fusibleRelus(intoBatchNorm: boolean): Map<number, number> {
    const known = this.fusedRelus.get(intoBatchNorm);
    if (known) return known;
    const { graph } = this;
    const consumers = new Map<number, GraphNode[]>();
    for (const n of graph.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
    const outputs = new Set(graph.outputs);
    const out = new Map<number, number>();
    for (const n of graph.nodes) {
      if (n.op !== "call_module" || !n.instance || !FUSES_RELU.test(moduleType(n.instance)) || outputs.has(n.id)) continue;
      if (!intoBatchNorm && isBatchNorm(n.instance)) continue;
      const uses = consumers.get(n.id) ?? [];
      const relu = uses.length === 1 ? uses[0] : undefined;
      if (relu && isPlainRelu(relu) && relu.inputs[0] === n.id && sameBranches(n, relu)) out.set(relu.id, n.id);
    }
    this.fusedRelus.set(intoBatchNorm, out);
    return out;
  }

  private runNode(ctx: OpContext, node: GraphNode, calls: Map<number, number>, opts: PassOptions): Act {
    // A tuple (`x.chunk(2, 1)`) is an input only of indexing, which reads its parts itself.
    const indexesTuple = node.target === "operator.getitem" && node.inputs[0] !== undefined && !!ctx.parts(node.inputs[0]);
    const input = node.inputs[0] !== undefined && !indexesTuple ? ctx.value(node.inputs[0]) : undefined;
    try {
      switch (node.op) {
        case "call_module": {
          const written = node.instance!;
          calls.set(written.id, (calls.get(written.id) ?? 0) + 1);
          // Only recurrent layers take more than one tensor (their initial states).
          if (!input || (node.inputs.length !== 1 && !RECURRENT_TYPES.has(moduleType(written)))) throw new NotExecutable(`\`self.${node.target}\` called with ${node.inputs.length} tensors`, node.range.start.line);
          if (this.skip.has(written)) return input;
          const inst = this.concrete(written, input);
          const out = runModule(ctx, node, inst, moduleType(inst), input);
          if (isBatchNorm(inst)) opts.onBatchNorm?.(node, out);
          return out;
        }
        case "call_function":
          return runFunction(ctx, node);
        case "call_method":
          return runMethod(ctx, node);
        default:
          throw new NotExecutable(`a \`${node.op}\` node`, node.range.start.line);
      }
    } catch (e) {
      if (e instanceof TorchError) throw new ExecutionError(node, e.pyType, e.message, input ? logicalShape(input) : undefined);
      if (e instanceof NotExecutableShape) throw new ExecutionError(e.node, e.pyType, e.message, input ? logicalShape(input) : undefined);
      throw e;
    }
  }

  dispose(): void {
    for (const l of this.layers.values()) l.weight.dispose();
    this.layers.clear();
    for (const m of this.namedTensors.values()) for (const t of m.values()) t.dispose();
    this.namedTensors.clear();
  }
}

function safeInit(inst: ModuleInstance, seed: number): LayerParams | undefined {
  try {
    return initLayerParams(inst, seed);
  } catch (e) {
    if (e instanceof NotExecutable) return undefined; // only an error if the module actually runs
    throw e;
  }
}

/** Two nodes run under the same if/else arms. */
function sameBranches(a: GraphNode, b: GraphNode): boolean {
  return a.branches.length === b.branches.length && a.branches.every((t, i) => t.ifId === b.branches[i].ifId && t.arm === b.branches[i].arm);
}

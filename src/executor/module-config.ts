/** Constructor arguments of library modules, read by PyTorch's signatures into plain numbers. */
import type { ArgInfo, ModuleInstance, Value } from "../model/values.js";
import { constValue } from "../model/symbolic.js";
import type { GraphNode } from "../model/graph.js";

/** Thrown when a model cannot be executed; `what` names the construct, `line` where it is. */
export class NotExecutable extends Error {
  constructor(readonly what: string, readonly line?: number) {
    super(line !== undefined ? `${what} (line ${line})` : what);
  }
}

/** A PyTorch shape error raised by a non-BatchNorm operation (view, cat), with PyTorch's text. */
export class NotExecutableShape extends Error {
  constructor(message: string, readonly node: GraphNode, readonly pyType: "RuntimeError" | "IndexError" = "RuntimeError") {
    super(message);
  }
}

export type PyArg = number | boolean | string | null | PyArg[];

/** PyTorch's parameter order for the constructors the executor runs. */
export const SIGNATURES: Record<string, string[]> = {
  Conv1d: ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode"],
  Conv2d: ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode"],
  ConvTranspose2d: ["in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias", "dilation", "padding_mode"],
  Conv3d: ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode"],
  Linear: ["in_features", "out_features", "bias"],
  BatchNorm1d: ["num_features", "eps", "momentum", "affine", "track_running_stats"],
  BatchNorm2d: ["num_features", "eps", "momentum", "affine", "track_running_stats"],
  BatchNorm3d: ["num_features", "eps", "momentum", "affine", "track_running_stats"],
  SyncBatchNorm: ["num_features", "eps", "momentum", "affine", "track_running_stats", "process_group"],
  MaxPool1d: ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"],
  MaxPool2d: ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"],
  MaxPool3d: ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"],
  AvgPool1d: ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"],
  AvgPool2d: ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"],
  AvgPool3d: ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"],
  PReLU: ["num_parameters", "init"],
  Upsample: ["size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"],
  AdaptiveAvgPool1d: ["output_size"],
  AdaptiveAvgPool2d: ["output_size"],
  AdaptiveMaxPool2d: ["output_size"],
  Dropout: ["p", "inplace"],
  Dropout1d: ["p", "inplace"],
  Dropout2d: ["p", "inplace"],
  ReLU: ["inplace"],
  ReLU6: ["inplace"],
  LeakyReLU: ["negative_slope", "inplace"],
  Hardtanh: ["min_val", "max_val", "inplace"],
  CELU: ["alpha", "inplace"],
  Softplus: ["beta", "threshold"],
  LayerNorm: ["normalized_shape", "eps", "elementwise_affine"],
  GroupNorm: ["num_groups", "num_channels", "eps", "affine"],
  InstanceNorm1d: ["num_features", "eps", "momentum", "affine", "track_running_stats"],
  InstanceNorm2d: ["num_features", "eps", "momentum", "affine", "track_running_stats"],
  InstanceNorm3d: ["num_features", "eps", "momentum", "affine", "track_running_stats"],
  ELU: ["alpha", "inplace"],
  Flatten: ["start_dim", "end_dim"],
  PixelShuffle: ["upscale_factor"],
  Embedding: ["num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse"],
  LSTM: ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size"],
  GRU: ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"],
  RNN: ["input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first", "dropout", "bidirectional"],
  ReflectionPad1d: ["padding"],
  ReflectionPad2d: ["padding"],
  ZeroPad2d: ["padding"],
  ConstantPad1d: ["padding", "value"],
  ConstantPad2d: ["padding", "value"],
  PixelUnshuffle: ["downscale_factor"],
  Softmax: ["dim"],
  LogSoftmax: ["dim"],
};

function pyValue(v: Value): PyArg | undefined {
  switch (v.k) {
    case "num":
      return constValue(v.sym);
    case "unknown":
      return v.sym ? constValue(v.sym) : undefined;
    case "bool":
      return v.b;
    case "str":
      return v.s;
    case "none":
      return null;
    case "tuple": {
      const items = v.items.map(pyValue);
      return items.some((i) => i === undefined) ? undefined : (items as PyArg[]);
    }
    case "list": {
      if (!v.box.exact) return undefined;
      const items = v.box.items.map((i) => pyValue(i.value));
      return items.some((i) => i === undefined) ? undefined : (items as PyArg[]);
    }
    default:
      return undefined;
  }
}

/** Reads a module's constructor arguments by name; `get` throws NotExecutable when one has no value. */
export class ModuleArgs {
  private readonly byName = new Map<string, ArgInfo>();

  constructor(readonly inst: ModuleInstance, readonly type: string) {
    const names = SIGNATURES[type] ?? [];
    inst.args.forEach((a, i) => {
      if (names[i]) this.byName.set(names[i], a);
    });
    for (const [k, a] of inst.kwargs) this.byName.set(k, a);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get<T extends PyArg>(name: string, fallback?: T): PyArg {
    const a = this.byName.get(name);
    if (!a) {
      if (fallback === undefined) throw new NotExecutable(`\`${this.type}\` without \`${name}\``, this.inst.ctorRange.start.line);
      return fallback;
    }
    const v = pyValue(a.value);
    if (v === undefined) throw new NotExecutable(`\`${this.type}(${name}=${a.text})\`, whose value bnlint does not know`, a.range.start.line);
    return v;
  }

  number(name: string, fallback?: number): number {
    const v = this.get(name, fallback);
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v !== "number") throw new NotExecutable(`\`${this.type}(${name}=${JSON.stringify(v)})\`, which is not a number`, this.inst.ctorRange.start.line);
    return v;
  }

  /** An int or a tuple of ints, as a list of `rank` numbers (`3` → `[3, 3]`). */
  ints(name: string, rank: number, fallback?: number): number[] {
    const v = this.get(name, fallback);
    if (typeof v === "number") return Array(rank).fill(v);
    if (Array.isArray(v) && v.length === rank && v.every((x) => typeof x === "number")) return v as number[];
    throw new NotExecutable(`\`${this.type}(${name}=${JSON.stringify(v)})\`, which the executor does not support`, this.inst.ctorRange.start.line);
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.get(name, fallback);
    if (typeof v === "boolean") return v;
    if (typeof v === "number") return v !== 0;
    throw new NotExecutable(`\`${this.type}(${name}=${JSON.stringify(v)})\`, which is not a boolean`, this.inst.ctorRange.start.line);
  }
}

/** PyTorch API knowledge as data. Names are canonical: `torch.nn.BatchNorm2d`, `torch.nn.functional.relu`. */

export type BatchNormRank = 1 | 2 | 3;

/** BatchNorm classes, with the spatial rank they expect (input rank = rank + 2; BatchNorm1d also takes 2-D). */
export const BATCHNORM_TYPES: ReadonlyMap<string, BatchNormRank | null> = new Map<string, BatchNormRank | null>([
  ["torch.nn.BatchNorm1d", 1],
  ["torch.nn.BatchNorm2d", 2],
  ["torch.nn.BatchNorm3d", 3],
  ["torch.nn.LazyBatchNorm1d", 1],
  ["torch.nn.LazyBatchNorm2d", 2],
  ["torch.nn.LazyBatchNorm3d", 3],
  ["torch.nn.SyncBatchNorm", null],
  // The common base of BatchNorm1d/2d/3d: an in-file subclass (`class ContBatchNorm3d(_BatchNorm)`) is a BatchNorm.
  ["torch.nn._BatchNorm", null],
]);

export function isBatchNormType(qualname: string | undefined): boolean {
  return qualname !== undefined && BATCHNORM_TYPES.has(qualname);
}

export const CONTAINER_TYPES = new Set(["torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"]);

/** Base classes that make a class a PyTorch model. */
export const MODULE_BASES = new Set([
  "torch.nn.Module",
  "pytorch_lightning.LightningModule",
  "lightning.LightningModule",
  "lightning.pytorch.LightningModule",
]);

/** Every `torch.nn` class bnlint knows by name, so `from torch.nn import *` and `torch.nn.modules.x.Name` resolve. */
export const TORCH_NN_CLASSES = new Set([
  ...BATCHNORM_TYPES.keys(),
  ...CONTAINER_TYPES,
  "torch.nn.Module",
  "torch.nn.Identity",
  "torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Bilinear",
  "torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.Conv3d",
  "torch.nn.ConvTranspose1d", "torch.nn.ConvTranspose2d", "torch.nn.ConvTranspose3d",
  "torch.nn.LazyConv1d", "torch.nn.LazyConv2d", "torch.nn.LazyConv3d",
  "torch.nn.MaxPool1d", "torch.nn.MaxPool2d", "torch.nn.MaxPool3d",
  "torch.nn.AvgPool1d", "torch.nn.AvgPool2d", "torch.nn.AvgPool3d",
  "torch.nn.AdaptiveAvgPool1d", "torch.nn.AdaptiveAvgPool2d", "torch.nn.AdaptiveAvgPool3d",
  "torch.nn.AdaptiveMaxPool1d", "torch.nn.AdaptiveMaxPool2d", "torch.nn.AdaptiveMaxPool3d",
  "torch.nn.LayerNorm", "torch.nn.GroupNorm", "torch.nn.InstanceNorm1d", "torch.nn.InstanceNorm2d",
  "torch.nn.InstanceNorm3d", "torch.nn.LocalResponseNorm",
  "torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.Dropout3d", "torch.nn.AlphaDropout",
  "torch.nn.ReLU", "torch.nn.ReLU6", "torch.nn.LeakyReLU", "torch.nn.PReLU", "torch.nn.ELU", "torch.nn.SELU",
  "torch.nn.CELU", "torch.nn.GELU", "torch.nn.SiLU", "torch.nn.Mish", "torch.nn.Sigmoid", "torch.nn.Tanh",
  "torch.nn.Hardswish", "torch.nn.Hardsigmoid", "torch.nn.Hardtanh", "torch.nn.Softplus",
  "torch.nn.Softmax", "torch.nn.LogSoftmax", "torch.nn.Softmax2d",
  "torch.nn.Flatten", "torch.nn.Unflatten", "torch.nn.Upsample", "torch.nn.PixelShuffle",
  "torch.nn.Embedding", "torch.nn.EmbeddingBag", "torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN",
  "torch.nn.MultiheadAttention", "torch.nn.Transformer", "torch.nn.TransformerEncoder",
  "torch.nn.TransformerEncoderLayer", "torch.nn.ZeroPad2d", "torch.nn.ReflectionPad2d", "torch.nn.ConstantPad2d",
].map((q) => q));

/** Modules that map their input to an output of the same shape and distribution kind. */
export const SHAPE_PRESERVING_MODULES = new Set([
  "torch.nn.Identity", "torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.Dropout3d",
  "torch.nn.AlphaDropout",
]);

/** Operations that only rearrange a tensor (the values are the same numbers). */
export const SHAPE_ONLY_FUNCTIONS = new Set([
  "torch.flatten", "torch.reshape", "torch.squeeze", "torch.unsqueeze", "torch.permute", "torch.transpose",
  "torch.t", "torch.nn.Flatten", "torch.nn.Unflatten", "torch.nn.Identity", "torch.nn.Dropout",
  "torch.nn.functional.dropout",
]);
export const SHAPE_ONLY_METHODS = new Set([
  "view", "reshape", "flatten", "squeeze", "unsqueeze", "contiguous", "permute", "transpose", "t", "view_as",
  "reshape_as", "float", "double", "half", "to", "cpu", "cuda", "type", "clone", "detach",
]);

/** Output activations that may follow the logits. */
export const OUTPUT_ACTIVATION_FUNCTIONS = new Set([
  "torch.softmax", "torch.log_softmax", "torch.sigmoid", "torch.nn.functional.softmax",
  "torch.nn.functional.log_softmax", "torch.nn.functional.sigmoid", "torch.nn.Softmax", "torch.nn.LogSoftmax",
  "torch.nn.Sigmoid",
]);
export const OUTPUT_ACTIVATION_METHODS = new Set(["softmax", "log_softmax", "sigmoid"]);

/** Layers that produce class scores, with the position and keyword of their output-size argument. */
export const SCORE_LAYERS: ReadonlyMap<string, { index: number; keyword: string }> = new Map([
  ["torch.nn.Linear", { index: 1, keyword: "out_features" }],
  ["torch.nn.LazyLinear", { index: 0, keyword: "out_features" }],
  ["torch.nn.Conv1d", { index: 1, keyword: "out_channels" }],
  ["torch.nn.Conv2d", { index: 1, keyword: "out_channels" }],
  ["torch.nn.Conv3d", { index: 1, keyword: "out_channels" }],
  ["torch.nn.LazyConv1d", { index: 0, keyword: "out_channels" }],
  ["torch.nn.LazyConv2d", { index: 0, keyword: "out_channels" }],
  ["torch.nn.LazyConv3d", { index: 0, keyword: "out_channels" }],
]);

/** Names that mean "number of classes". */
export const CLASS_COUNT_NAME = /^(num_?classes|n_?classes|nclass(es)?|num_?class|n_?class|nb_?classes|class_?num|classes_?num|num_?labels|n_?labels|num_?categories|num_outputs_classes|classes|num_?cls|n_?cls)$/i;
/**
 * Names of an output size that is an embedding or feature width, not a class count (`nn.Linear(c, num_features)`
 * in ArcFace's backbone, whose BatchNorm1d on the embedding is by design).
 */
export const EMBEDDING_SIZE_NAME = /^(num_?features|n_?features|n_?feats?|feat(ure)?s?_?(dim|size|len)|embed(ding)?s?(_?(dim|size|len))?|emb_?(dim|size)|latent_?(dim|size)?|hidden_?(dim|size)|proj(ection)?_?(dim|size)|z_?dim|code_?(dim|size))$/i;
/**
 * Names of a generic layer width (`nn.Linear(in_dim, out_dim)` in a reusable Linear + BatchNorm block): nothing
 * says class scores, so a head-like layer name alone (`self.fc`) does not make them.
 */
export const GENERIC_SIZE_NAME = /^(out_?(dim|size|features|channels|planes|ch|chs|c)|output_?(dim|size|features|channels)|dim_?out|outdim|d_?model|dim|width|inner_?dim|mid_?(dim|channels)|planes|channels|units)$/i;
/** Names of layers that are classification heads. */
export const HEAD_LAYER_NAME = /^(fc|classifier|head|logits?|cls|cls_head|classification_head|last_linear)$/i;

/** Calls in forward that reach modules by name at run time: after one, any module may have been called. */
export const DYNAMIC_MODULE_ACCESS_METHODS = new Set([
  "modules", "children", "named_modules", "named_children", "get_submodule", "apply", "_modules",
]);

/** Functions known to create nothing and call no module (their result is a new tensor or value). */
export function isTorchFunction(qualname: string): boolean {
  return qualname.startsWith("torch.") && !qualname.startsWith("torch.nn.") || qualname.startsWith("torch.nn.functional.");
}

/** Canonical form of a qualified name: `torch.nn.modules.batchnorm.BatchNorm2d` → `torch.nn.BatchNorm2d`. */
export function canonicalName(qualname: string): string {
  const m = /^torch\.nn\.modules\.[a-z_]+\.([A-Za-z0-9_]+)$/.exec(qualname);
  if (m) return `torch.nn.${m[1]}`;
  if (qualname.startsWith("torch.nn.functional.")) return qualname;
  if (qualname === "torch.nn.parallel.SyncBatchNorm") return "torch.nn.SyncBatchNorm";
  // Vendored copies of Synchronized-BatchNorm-PyTorch (`sync_batchnorm`, CSAIL's `lib.nn`, SPADE's
  // `models.networks.sync_batchnorm`) import from anywhere; in one process they are BatchNorm1d/2d/3d.
  // (Not FrozenBatchNorm2d: it keeps no running statistics to mix.)
  const vendored = /(?:^|\.)SynchronizedBatchNorm([123])d$/.exec(qualname);
  if (vendored) return `torch.nn.BatchNorm${vendored[1]}d`;
  if (qualname === "apex.parallel.SyncBatchNorm") return "torch.nn.SyncBatchNorm";
  // PyTorch Geometric's BatchNorm over node features: a BatchNorm1d on (num_nodes, C) with running statistics.
  if (qualname === "torch_geometric.nn.BatchNorm" || qualname === "torch_geometric.nn.norm.BatchNorm" || qualname === "torch_geometric.nn.norm.batch_norm.BatchNorm") return "torch.nn.BatchNorm1d";
  return qualname;
}

/** Short display name: `torch.nn.BatchNorm2d` → `BatchNorm2d`. */
export function shortName(qualname: string): string {
  const i = qualname.lastIndexOf(".");
  return i < 0 ? qualname : qualname.slice(i + 1);
}

/**
 * Calls that only record or report (torchvision's and PyTorch's API-usage telemetry, logging, warnings): a
 * module passed to them is not changed, so it does not escape the analysis.
 */
export const INERT_CALL = /(?:^|\.)_log_api_usage_once$|^logging\.|^warnings\.warn$/;

/** Checks that are false when a model runs eagerly, as bnlint analyses and executes it. */
export const EAGER_FALSE_CALL = new Set(["torch.jit.is_scripting", "torch.jit.is_tracing", "torch.onnx.is_in_onnx_export", "torch._dynamo.is_compiling", "torch.compiler.is_compiling"]);

/** `add_`, `mul_`, `relu_`: tensor methods that change their tensor in place (not dunders such as `__add__`). */
export const IN_PLACE_METHOD = /^[a-z][a-z0-9_]*[a-z0-9]_$/;

/** Attributes and methods every `nn.Module` has: `hasattr(self, name)` for these is never decided from `__init__`. */
export const NN_MODULE_ATTRIBUTES = new Set([
  "training", "forward", "__call__", "add_module", "register_module", "register_buffer", "register_parameter", "apply", "cuda", "cpu",
  "to", "type", "float", "double", "half", "bfloat16", "train", "eval", "requires_grad_", "zero_grad", "parameters",
  "named_parameters", "buffers", "named_buffers", "children", "named_children", "modules", "named_modules",
  "state_dict", "load_state_dict", "get_submodule", "get_parameter", "get_buffer", "extra_repr", "share_memory",
  "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook", "register_backward_hook",
  "dump_patches", "call_super_init", "ipu", "xpu", "to_empty",
]);

/** Facts about library calls that scripts make around a model, as data (PyTorch and torchvision). */

/**
 * torchvision builders whose models contain BatchNorm. Detection models are left out (they freeze their
 * BatchNorm), and so are VGG without `_bn`, AlexNet, SqueezeNet, ViT and ConvNeXt (no BatchNorm).
 */
const BATCHNORM_BUILDER_NAMES =
  "resnet\\d+|resnext\\w+|wide_resnet\\w+|vgg\\d+_bn|densenet\\d+|mobilenet_v2|mobilenet_v3_(?:large|small)|" +
  "efficientnet_\\w+|inception_v3|googlenet|shufflenet_v2_\\w+|mnasnet\\w+|regnet_\\w+|" +
  "deeplabv3_\\w+|fcn_resnet\\w+|lraspp_mobilenet_v3_large|r3d_18|r2plus1d_18|mc3_18|maxvit_t";
// `torchvision.models.resnet50`, or through the submodule that defines it (`torchvision.models.resnet.resnet50`,
// `torchvision.models.segmentation.deeplabv3.deeplabv3_resnet50`).
const BATCHNORM_BUILDER = new RegExp(`^torchvision\\.models\\.(?:\\w+\\.){0,2}(?:${BATCHNORM_BUILDER_NAMES})$`);

/**
 * Text that names one of those builders, or timm's `create_model`: a file without it cannot call one (any import
 * or alias spells the name).
 */
export const BATCHNORM_BUILDER_TEXT = new RegExp(`\\b(?:${BATCHNORM_BUILDER_NAMES}|create_model)\\b`);

/**
 * timm architectures built with BatchNorm, by model name (`resnet50`, `resnet50.a1_in1k`, `efficientnet_b0`).
 * Not ViT, DeiT, Swin or ConvNeXt (LayerNorm), BiT's `resnetv2_*x*_bit` (GroupNorm) nor NFNets (no normalization).
 */
const TIMM_BATCHNORM_MODEL =
  /^(?:resnet\d+[a-z]*|resnetrs\d+|resnext\d+|wide_resnet\d+|seresnet\d+|seresnext\d+|ecaresnet\d+|skresnet\d+|res2net\d+|resnest\d+|efficientnet_|efficientnetv2_|tf_efficientnet_|tf_efficientnetv2_|mobilenetv2_|mobilenetv3_|tf_mobilenetv3_|densenet\d+|regnet[xy]_|inception_v[34]\b|xception|mixnet_|tf_mixnet_|mnasnet_|ghostnet_|dla\d+|dpn\d+|hrnet_w\d+|rexnet_|repvgg_|cspresnet|cspdarknet|darknet|vgg\d+_bn\b)/;

/** `timm.create_model("resnet50", pretrained=True)`: a model name whose architecture has BatchNorm. */
export function isTimmBatchNormModel(name: string): boolean {
  return TIMM_BATCHNORM_MODEL.test(name);
}

export function isBatchNormBuilder(qualname: string): boolean {
  return BATCHNORM_BUILDER.test(qualname);
}

const BATCHNORM_BUILDER_NAME = new RegExp(`^(?:${BATCHNORM_BUILDER_NAMES})$`);

/** `torch.hub.load("pytorch/vision:v0.10.0", "resnet18", ...)`: torchvision's hub entry points are its builders. */
export function isBatchNormHubModel(repo: string, model: string): boolean {
  return /^pytorch\/vision(?::|$)/.test(repo) && BATCHNORM_BUILDER_NAME.test(model);
}

/** `torchvision.models.get_model("resnet50", weights=...)`: the builder by its registered name. */
export function isBatchNormBuilderName(name: string): boolean {
  return BATCHNORM_BUILDER_NAME.test(name);
}

/** Wrappers that return a module whose train/eval mode is the wrapped model's. */
export const MODE_TRANSPARENT_WRAPPERS = new Set([
  "torch.nn.DataParallel",
  "torch.nn.parallel.DataParallel",
  "torch.nn.parallel.DistributedDataParallel",
  "torch.nn.parallel.distributed.DistributedDataParallel",
  "torch.compile",
]);

/** Module methods that return the module itself and leave its mode alone. */
export const SELF_RETURNING_METHODS = new Set([
  "to", "cuda", "cpu", "float", "double", "half", "bfloat16", "requires_grad_", "share_memory", "type", "zero_grad",
]);

/** Module methods that read the module without touching its mode or handing it out. */
export const MODE_NEUTRAL_METHODS = new Set([
  "parameters", "named_parameters", "buffers", "named_buffers", "state_dict", "load_state_dict", "zero_grad",
  "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
]);

/** Builtins and library functions that can take a model without changing its mode. */
export const MODE_NEUTRAL_FUNCTIONS = new Set([
  "print", "len", "str", "repr", "type", "id", "isinstance", "hasattr", "getattr", "sum", "format",
  "torch.save", "logging.info", "logger.info",
  // Exports in eval mode and restores the mode the model had (`training=TrainingMode.EVAL` by default).
  "torch.onnx.export",
]);

/** Context managers that turn gradients off: evaluation code, when they come after training or loading. */
export const NO_GRAD_CONTEXTS = new Set([
  "torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
  "torch.autograd.inference_mode",
]);

/** Words in a function name that make it evaluation code (`test`, `evaluate_epoch`, `runInference`)… */
export const EVAL_NAME_WORDS = new Set([
  "test", "testing", "eval", "evaluate", "evaluation", "val", "valid", "validate", "validation", "predict",
  "prediction", "infer", "inference", "extract",
]);
/**
 * …unless the name also says it trains (`train_and_validate`, `fit_eval`) or adapts BatchNorm on purpose at test
 * time (`test_adabn`, `evaluate_tta`, `recalibrate_bn`: AdaBN, TENT's norm baseline, statistics recalibration).
 */
export const TRAIN_NAME_WORDS = new Set([
  "train", "training", "fit", "finetune", "adapt", "adaptation", "adabn", "tta", "tent", "recalibrate",
  "recalibration", "calibrate", "calibration",
]);

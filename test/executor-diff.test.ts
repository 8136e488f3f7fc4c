// Differential test of the executor against real PyTorch: for every fixture model the executor can run,
// bnlint exports weights and synthetic batches, test/python/executor_diff.py replays them in PyTorch, and the
// running statistics after the train-mode steps and the eval-mode output must agree.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parsePython } from "../src/frontend/python/parser.js";
import { indexPython } from "../src/frontend/python/indexer.js";
import { analyzePython } from "../src/frontend/python/analyze.js";
import { exportExecution, type ExportManifest } from "../src/executor/export.js";
import { fixtureFiles, MODEL_FIXTURE_FOLDERS, readText } from "./helpers/expectations.js";
import type { ModelIndex } from "../src/model/index-types.js";
import type { ModelArgs, ModelArgValue } from "../src/engine/linter.js";

const PYTHON = "/usr/bin/python3";
const root = new URL("../fixtures/", import.meta.url).pathname;
const script = new URL("./python/executor_diff.py", import.meta.url).pathname;
const settings = { steps: 6, batch: 8, seed: 0 };

function torchAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** ‖a − b‖ / max(‖b‖, ‖scale‖): a running mean that is ~0 (after an affine-free BatchNorm and a bias-free
 * Linear) is compared on the scale of its standard deviation, not of its own rounding noise. */
function relativeError(a: number[], b: number[], scale: number[] = []): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  const s = Math.sqrt(scale.reduce((acc, v) => acc + v * v, 0));
  return Math.sqrt(d) / Math.max(Math.sqrt(n), s, 1e-12);
}

/** Splits `64, 32, (6, 12, 18)` at the commas outside brackets. */
function topLevelParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(" || ch === "[") depth++;
    if (ch === ")" || ch === "]") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const STRING = /^(["'])([^"']*)\1$/;

function scalarArg(text: string): number | string | undefined {
  return NUMBER.test(text) ? Number(text) : STRING.exec(text)?.[2];
}

/** A number, a string, or a tuple/list of them (`(6, 12, 18)`), as `--model-args` takes them; undefined otherwise. */
function numericArg(text: string): ModelArgValue | undefined {
  const scalar = scalarArg(text);
  if (scalar !== undefined) return scalar;
  const inner = /^[([](.*)[)\]]$/s.exec(text)?.[1];
  const items = inner === undefined ? [] : inner.split(",").map((x) => x.trim()).filter(Boolean).map(scalarArg);
  return items.length > 0 && items.every((x) => x !== undefined) ? (items as (number | string)[]) : undefined;
}

/**
 * The numeric constructor arguments of a fixture's `# torch-check: Class(args)` lines, by parameter name, so the
 * executor runs the model as the PyTorch checks do (instead of bnlint's defaults for arguments the file never
 * passes). Lines with other arguments are skipped; the first line of a class wins.
 */
function torchCheckArgs(text: string, index: ModelIndex): ModelArgs {
  const out: ModelArgs = {};
  for (const m of text.matchAll(/#\s*torch-check:\s*([A-Za-z_]\w*)\((.*)\)\s+input=/g)) {
    const [, name, argText] = m;
    const init = index.classByName.get(name)?.methods.get("__init__");
    if (!init || out[name]) continue;
    const args = topLevelParts(argText).map(numericArg);
    if (args.some((a) => a === undefined)) continue;
    const params = init.params.slice(1); // after self
    if (args.length > params.length) continue;
    out[name] = Object.fromEntries(args.map((a, i) => [params[i].name, a!]));
  }
  return out;
}

/**
 * Further `# torch-check:` lines of a class with the first line's arguments and another input: the same model run
 * on that input too (an if/else on the input's sizes then takes its other arm), by class name.
 */
function torchCheckOtherInputs(text: string): { className: string; input: number[] }[] {
  const firstArgs = new Map<string, string>();
  const out: { className: string; input: number[] }[] = [];
  for (const m of text.matchAll(/#\s*torch-check:\s*([A-Za-z_]\w*)\((.*)\)\s+input=\(([\d,\s]+)\)\s*$/gm)) {
    const [, className, argText, inputText] = m;
    if (!firstArgs.has(className)) firstArgs.set(className, argText);
    else if (firstArgs.get(className) === argText) out.push({ className, input: inputText.split(",").map((d) => Number(d.trim())) });
  }
  return out;
}

const TORCHVISION = "/usr/lib/python3/dist-packages/torchvision";

/** torchvision blocks (file, class, constructor arguments) the executor must run as PyTorch does. */
const TORCHVISION_BLOCKS: [string, string, ModelArgs[string]][] = [
  ["ops/misc.py", "Conv2dNormActivation", { in_channels: 3, out_channels: 16 }],
  ["models/resnet.py", "BasicBlock", { inplanes: 16, planes: 16 }],
  ["models/resnet.py", "Bottleneck", { inplanes: 64, planes: 16 }],
  ["models/densenet.py", "_DenseLayer", { num_input_features: 16, growth_rate: 8, bn_size: 4, drop_rate: 0 }],
  ["models/shufflenetv2.py", "InvertedResidual", { inp: 16, oup: 16, stride: 1 }],
  ["models/googlenet.py", "Inception", { in_channels: 16, ch1x1: 8, ch3x3red: 8, ch3x3: 8, ch5x5red: 8, ch5x5: 8, pool_proj: 8 }],
  ["models/inception.py", "InceptionA", { in_channels: 16, pool_features: 8 }],
];

interface Case {
  name: string;
  dir: string;
  manifest: ExportManifest;
}

const hasTorch = torchAvailable();
// CI must run this test: a missing torch there is a failure, not a skip.
const run = hasTorch || process.env.CI ? describe : describe.skip;

run("executor agrees with PyTorch", async () => {
  if (!hasTorch) {
    it("has PyTorch at /usr/bin/python3", () => expect.fail("torch is not importable by /usr/bin/python3 (apt-get install python3-torch)"));
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "bnlint-diff-"));
  const cases: Case[] = [];
  const skipped: string[] = [];
  for (const file of MODEL_FIXTURE_FOLDERS.flatMap((d) => fixtureFiles(join(root, d)))) {
    const text = readText(file);
    const tree = await parsePython(text);
    try {
      const index = indexPython(file, text, tree);
      const analysis = analyzePython(index);
      const modelArgs = torchCheckArgs(text, index);
      for (const cls of analysis.topLevelModels) {
        const name = `${relative(root, file)}:${cls.name}`;
        const runs = [{ name, inputShapes: undefined as Record<string, number[]> | undefined }];
        for (const other of torchCheckOtherInputs(text)) {
          if (other.className === cls.name) runs.push({ name: `${name}@(${other.input.join(", ")})`, inputShapes: { [cls.name]: other.input } });
        }
        for (const r of runs) {
          const dir = join(work, String(cases.length));
          const out = await exportExecution(index, cls, dir, settings, { modelArgs, inputShapes: r.inputShapes });
          if ("why" in out) skipped.push(`${r.name}: ${out.why}`);
          else cases.push({ name: r.name, dir, manifest: out.manifest });
        }
      }
    } finally {
      tree.delete();
    }
  }
  // Real code no one here wrote: torchvision's own blocks (Debian's python3-torchvision), with the arguments
  // given as --model-args would give them; the replay imports them as torchvision's modules.
  for (const [rel, className, args] of TORCHVISION_BLOCKS) {
    const file = join(TORCHVISION, rel);
    const text = readText(file);
    const tree = await parsePython(text);
    try {
      const index = indexPython(file, text, tree);
      const cls = index.classByName.get(className)!;
      const name = `torchvision/${rel}:${className}`;
      const dir = join(work, String(cases.length));
      const out = await exportExecution(index, cls, dir, settings, { modelArgs: { [className]: args } });
      if ("why" in out) skipped.push(`${name}: ${out.why}`);
      else cases.push({ name, dir, manifest: out.manifest });
    } finally {
      tree.delete();
    }
  }
  const lines = cases.length ? execFileSync(PYTHON, [script, ...cases.map((c) => c.dir)], { encoding: "utf8", maxBuffer: 1 << 28 }).trim().split("\n") : [];
  rmSync(work, { recursive: true, force: true });

  it("runs the seed model and most fixture models", () => {
    console.log(`executor ran ${cases.length} models (fixtures, further inputs, torchvision blocks); not run:\n  ${skipped.join("\n  ")}`);
    const names = cases.map((c) => c.name);
    // One model per operator family the executor must keep running, checked against PyTorch below.
    const required = [
      "seed/keras_cifar2.py:Keras_Cifar2",
      "reused-batchnorm/video_bn3d.py:TinyC3D", // Conv3d, BatchNorm3d, 3-d pooling
      "clean/face_embedding.py:FaceEmbedder", // PReLU
      "reused-batchnorm/sequential_star_literal.py:TinyDecoder", // ConvTranspose2d
      "clean/syncbn_per_stage.py:SyncStem", // SyncBatchNorm as one process runs it
      "clean/unet_upsampling.py:TinyUNet", // nn.Upsample (bilinear), F.interpolate (nearest)
      "clean/partial_norm.py:TinyEfficientNet", // mean(..., keepdim=True), broadcast product
      "reused-batchnorm/syncbn_reuse.py:FPNLevel", // F.interpolate(size=lat.shape[-2:])
      "reused-batchnorm/submodule_block.py:Net", // x.size(2)
      "clean/shapes_mel_transpose.py:MelFrontEnd", // uneven adaptive pooling, transpose
      "unused-batchnorm/commented_out_call.py:TextCNN", // x.max(dim=2).values
      "clean/modulelist_per_iteration.py:VNetEncoder", // strided Conv3d, with its torch-check arguments
      "clean/shapes_residual_downsample.py:Bottleneck", // projecting bottleneck, with its torch-check arguments
      "reused-batchnorm/lazy_bn_reuse.py:LazyRegressor", // LazyLinear, LazyBatchNorm1d, torch.squeeze
      "clean/lazy_conv_stem.py:LazyStem", // LazyConv2d, LazyBatchNorm2d
      "reused-batchnorm/sequential_subclass.py:Encoder", // nn.Sequential subclass listing one BatchNorm twice
      "reused-batchnorm/sequential_subclass_alone.py:TemporalBlock", // a Sequential subclass as the top-level model (Conv1d, BatchNorm1d)
      "clean/sequential_subclass_attributes.py:TinyDenseTail", // Sequential subclass with children set as attributes
      "clean/vgg_make_layers.py:VGG", // a module-valued constructor argument, evaluated from the file's builder
      "clean/resnet_make_layer.py:ResNetCifar", // a block class as argument, F.avg_pool2d(out, out.size()[3])
      "clean/mixed_norms.py:MixedNormNet", // GroupNorm, InstanceNorm2d, LayerNorm (map and vector), Mish, Softplus, Hardtanh, CELU, …
      "clean/densenet_cat.py:MiniDenseNet", // nn.ModuleDict subclass filled by add_module("denselayer%d" % (i + 1), …)
      "clean/getattr_dynamic.py:StagedNet", // getattr(self, f"conv{i}") in an unrolled loop
      "clean/aspp_own_bn.py:ASPP", // a tuple constructor argument (torch-check), Sequential subclasses, one iterating self
      "reused-batchnorm/loop_unknown_iterable.py:PlainStack", // zip(widths[:-1], widths[1:]) over a list argument
      "clean/elementwise_head.py:EmbedHead", // clamp, exp/log/abs/sqrt/neg, in-place arithmetic, maximum, sum, F.layer_norm, F.normalize, t
      "clean/attention_pool_bn.py:ConvAttentionNet", // @ and torch.matmul on token batches, Linear on 3-d tensors
      "clean/early_return.py:AdaptiveStem", // an early return decided by the input's width…
      "clean/early_return.py:AdaptiveStem@(2, 3, 96, 96)", // …and its other path
      "clean/if_else_branches.py:MultiSpectralStem", // if/else on x.size(1): RGB…
      "clean/if_else_branches.py:MultiSpectralStem@(2, 1, 32, 32)", // …and single-band inputs
      "reused-batchnorm/branch_on_input_channels.py:DualStemNet", // if/else on the input, and on self.training
      "reused-batchnorm/branch_on_input_channels.py:DualStemNet@(4, 3, 32, 32)",
      "clean/shufflenet_unit.py:ShuffleGhostNet", // chunk, unpacked x.size() with arithmetic in view, a channel slice
      "clean/unet_pad_skip.py:UNetDecoder@(2, 3, 38, 38)", // F.pad by differences of sizes read at run time
      "clean/srresnet_pixel_shuffle.py:SRResNet", // PixelShuffle
      "clean/cyclegan_resnet_generator.py:ResnetGenerator", // ReflectionPad2d, ConvTranspose2d(output_padding=1), Tanh
      "clean/retrieval_gem_head.py:RetrievalNet", // clamp(min=…).pow(p), a pooling window read off the map, norm(dim=1)
      "clean/crnn_text_recognizer.py:CRNN", // bidirectional LSTMs; add_module in a nested function; T * b from x.size()
      "clean/conv_gru_tagger.py:ConvGRUTagger", // two-layer bidirectional batch-first GRU
      "clean/moduledict_per_key.py:DSBNNet", // a ModuleDict from a dict comprehension over string arguments, indexed by key
      "clean/cnn_lstm_activity.py:ActivityNet", // an LSTM given zero states made with torch.zeros(..., x.size(0), ...)
      "clean/cnn_lstm_activity.py:PrimedTagger", // a bidirectional GRU given a non-zero initial state
      "clean/cnn_lstm_activity.py:ElmanDetector", // a two-layer ReLU nn.RNN, batch first
      "clean/tabular_embeddings.py:TabularModel", // nn.Embedding on token ids, a list of tuples from the file's instantiation, sum()
      "clean/model_zoo_smoke_test.py:StageNet", // a dict argument from a builder function's local `cfg`
      "clean/ecg_functional_pools.py:ECGNet", // F.max_pool1d (padding), F.avg_pool1d, F.adaptive_avg_pool1d
      "clean/preact_hasattr_shortcut.py:PreActNet", // hasattr(self, "shortcut") decided per block
      "clean/split_ratio_shuffle.py:SplitShuffleNet", // int(x.size(1) * ratio) as a slice bound, int(C / g) in view
      "clean/ceil_mode_pooling.py:CeilStem", // MaxPool2d/F.max_pool2d/F.max_pool1d with ceil_mode=True adding a window…
      "clean/ceil_mode_pooling.py:CeilStem@(4, 3, 45, 45)", // …and on an input where it does not
      "clean/pointnet_tnet.py:PointNetCls", // torch.max(x, 2, keepdim=True)[0] and x, _ = torch.max(x, 2), np.array(...).astype with torch.from_numpy and Variable, x.is_cuda, batchsize = x.size()[0]
      ...TORCHVISION_BLOCKS.map(([rel, cls]) => `torchvision/${rel}:${cls}`),
    ];
    for (const name of required) expect(names).toContain(name);
    expect(cases.length).toBeGreaterThanOrEqual(75);
  });

  cases.forEach((c, i) => {
    it(c.name, () => {
      const torch = JSON.parse(lines[i]) as { error?: string; runningStats: Record<string, { mean: number[]; var: number[] }>; evalOutput: number[]; evalShape: number[] };
      expect(torch.error).toBeUndefined();
      for (const path of Object.keys(c.manifest.executor.runningStats)) expect(Object.keys(torch.runningStats), "BatchNorm paths").toContain(path);
      for (const [path, st] of Object.entries(torch.runningStats)) {
        const mine = c.manifest.executor.runningStats[path];
        if (!mine) {
          // A BatchNorm the executor never saw must never have run in PyTorch either: still at its initial values.
          expect(st.mean.every((v) => v === 0) && st.var.every((v) => v === 1), `${path} ran in PyTorch only`).toBe(true);
          continue;
        }
        expect(relativeError(mine.mean, st.mean, st.var.map(Math.sqrt)), `${path}.running_mean`).toBeLessThanOrEqual(1e-4);
        expect(relativeError(mine.var, st.var), `${path}.running_var`).toBeLessThanOrEqual(1e-4);
      }
      expect(c.manifest.executor.evalShape).toEqual(torch.evalShape);
      expect(relativeError(c.manifest.executor.evalOutput, torch.evalOutput), "eval-mode output").toBeLessThanOrEqual(1e-3);
    });
  });

});

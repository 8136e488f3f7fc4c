/**
 * The experiment behind every confirmation: T train-mode forward passes on synthetic batches (standard
 * normal, seeded) move the running statistics, then one held-out batch runs in train mode (statistics
 * frozen) and in eval mode, and the two are compared at every BatchNorm call and at the model's output.
 */
import type { ForwardGraph } from "../model/graph.js";
import type { ModuleInstance } from "../model/values.js";
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, physicalAxis } from "./act.js";
import { batchMoments } from "./batchnorm.js";
import { Rng } from "./rng.js";
import { GraphExecutor, type PassOptions, type PassResult } from "./run-graph.js";
import type { SharedPasses } from "./shared-passes.js";
import { type RunningStatsRule, type TrainingRecord, canReplay, recordTraining, replayTraining } from "./replay.js";

export interface ExperimentSettings {
  /** Train-mode forward passes (batches) whose statistics the running statistics are made of. */
  steps: number;
  batch: number;
  seed: number;
  /**
   * How the running statistics are formed from the batches (replay.ts). The measurement uses `"average"` (the
   * value PyTorch's running statistics settle to with fixed weights); the export for the differential test
   * replays PyTorch's own rule. Default `"pytorch"`.
   */
  runningStats?: RunningStatsRule;
}

export const DEFAULT_EXPERIMENT: ExperimentSettings = { steps: 16, batch: 8, seed: 0, runningStats: "average" };

/** Per-channel mean and standard deviation of a BatchNorm output, averaged over channels. */
export interface SiteStats {
  mean: number;
  std: number;
}

export interface VariantResult {
  /** Share of positions whose top-1 class is the same in train and eval mode; undefined without classes. */
  agreement?: number;
  /** ‖eval − train‖ / ‖train‖ of the model output on the held-out batch. */
  relativeDifference: number;
  trainSites: Map<number, SiteStats>;
  evalSites: Map<number, SiteStats>;
  /** Module calls per instance id, in one forward pass. */
  calls: Map<number, number>;
  /** Share of predictions that change when a sample sits in another batch (train mode). */
  batchDependence?: number;
  /** Eval-mode top-1 class per position, per held-out batch (eval mode treats each sample on its own). */
  evalClasses: (Int32Array | undefined)[];
  /** Rank of the model's output: 2 for class scores per sample, more for maps (a block's features, segmentation). */
  outputRank?: number;
}

export interface Variant {
  split?: ReadonlySet<ModuleInstance>;
  skip?: ReadonlySet<ModuleInstance>;
}

/** Standard normal values, or for an input an embedding reads, token ids uniform below `vocab` (as float32). */
export function syntheticBatch(tf: Tf, rng: Rng, shape: number[], vocab?: number): Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  if (vocab === undefined) return tf.tensor(rng.normal(values), shape);
  for (let i = 0; i < values.length; i++) values[i] = Math.floor(rng.next() * vocab);
  return tf.tensor(values, shape);
}

/** Held-out batches measured after training: enough samples for shares to mean something. */
export const HELD_OUT_BATCHES = 4;

export interface SyntheticData {
  train: Tensor[][];
  heldOut: Tensor[][];
  /** Held-out batch j's first half with batch j+1's second half: the same samples in other batches. */
  context: Tensor[][];
  /** Per input: the vocabulary of its token ids, undefined for float inputs. */
  vocabs?: readonly (number | undefined)[];
}

/** Synthetic batches for `steps` training passes plus the held-out ones, the same for every variant. */
export function syntheticData(tf: Tf, shapes: number[][], settings: ExperimentSettings, vocabs?: readonly (number | undefined)[]): SyntheticData {
  const rng = new Rng(settings.seed + 1);
  const train = Array.from({ length: settings.steps }, () => shapes.map((s, i) => syntheticBatch(tf, rng, s, vocabs?.[i])));
  const heldOut = Array.from({ length: HELD_OUT_BATCHES }, () => shapes.map((s, i) => syntheticBatch(tf, rng, s, vocabs?.[i])));
  const half = Math.floor(settings.batch / 2);
  const context = heldOut.map((batch, j) => batch.map((t, i) => {
    const next = heldOut[(j + 1) % heldOut.length][i];
    return tf.concat([tf.slice(t, 0, half), tf.slice(next, half)], 0);
  }));
  return { train, heldOut, context, vocabs };
}

/** A variant whose training differs from the written model's records its own run (on a separate executor). */
function recordVariantTraining(tf: Tf, graph: ForwardGraph, data: SyntheticData, settings: ExperimentSettings, variant: Variant): TrainingRecord {
  const trainer = new GraphExecutor(tf, graph, settings.seed, variant);
  try {
    return recordTraining(tf, trainer, data.train);
  } finally {
    trainer.dispose();
  }
}

/** Mean over channels of each channel's mean and standard deviation, read in the tensor's own layout. */
function channelStats(tf: Tf, a: Act): SiteStats {
  const channel = physicalAxis(a, 1);
  if (channel === a.t.rank - 1) {
    const m = batchMoments(tf, a.t);
    let mean = 0;
    let std = 0;
    for (let c = 0; c < m.mean.length; c++) {
      mean += m.mean[c]!;
      std += Math.sqrt(m.variance[c]!);
    }
    return { mean: mean / m.mean.length, std: std / m.mean.length };
  }
  return tf.tidy(() => {
    const axes = Array.from({ length: a.t.rank }, (_, i) => i).filter((i) => i !== channel);
    const m = tf.moments(a.t, axes);
    // One read from the backend for both numbers.
    const [mean, std] = tf.stack([tf.mean(m.mean), tf.mean(tf.sqrt(m.variance))]).dataSync();
    return { mean, std };
  });
}

/** Top-1 class per position of a model output, or undefined without a class dimension. */
export function classes(tf: Tf, t: Tensor): Int32Array | undefined {
  if (t.rank < 2 || t.shape[1]! < 2) return undefined;
  return tf.tidy(() => tf.argMax(t, 1).dataSync() as Int32Array);
}

function sameShare(a: Int32Array, b: Int32Array, count = a.length): number {
  let same = 0;
  for (let i = 0; i < count; i++) if (a[i] === b[i]) same++;
  return same / count;
}

function mergeStats(into: Map<number, SiteStats & { n: number }>, id: number, s: SiteStats): void {
  const prev = into.get(id);
  if (!prev) into.set(id, { ...s, n: 1 });
  else into.set(id, { mean: (prev.mean * prev.n + s.mean) / (prev.n + 1), std: (prev.std * prev.n + s.std) / (prev.n + 1), n: prev.n + 1 });
}

/** An executor whose running statistics have been through the training steps (replayed when possible). */
export function trainedExecutor(tf: Tf, graph: ForwardGraph, data: SyntheticData, settings: ExperimentSettings, variant: Variant, recorded?: TrainingRecord): GraphExecutor {
  const exec = new GraphExecutor(tf, graph, settings.seed, variant);
  try {
    replayTraining(exec, recorded && canReplay(graph, exec.skip) ? recorded : recordVariantTraining(tf, graph, data, settings, variant), settings.runningStats ?? "pytorch");
    return exec;
  } catch (e) {
    exec.dispose();
    throw e;
  }
}

/**
 * How a variant's measurement passes share work (shared-passes.ts): the model as written keeps the values
 * planned variants need; a planned variant starts from them.
 */
export type PassSharing = { passes: SharedPasses; role: "keep" } | { passes: SharedPasses; role: "reuse"; key: string };

function forwardShared(exec: GraphExecutor, batch: Tensor[], opts: PassOptions, sharing: PassSharing | undefined, pass: string): PassResult {
  if (sharing?.role === "keep" && sharing.passes.keep.size > 0) {
    const result = exec.forward(batch, { ...opts, keep: sharing.passes.keep });
    sharing.passes.store(pass, result.kept);
    return result;
  }
  const reuse = sharing?.role === "reuse" ? sharing.passes.reuse(sharing.key, pass) : undefined;
  return exec.forward(batch, reuse ? { ...opts, reuse } : opts);
}

/**
 * The train-mode measurements on the held-out batches. Train mode normalises with batch statistics, so they
 * depend only on which BatchNorms are skipped: variants that differ only in splitting share them.
 */
export class TrainSide {
  readonly sites = new Map<number, SiteStats & { n: number }>();
  calls = new Map<number, number>();
  /** Model output per held-out batch (kept until dispose). */
  readonly outputs: Tensor[] = [];
  /** Top-1 class per position, per held-out batch; undefined without a class dimension. */
  readonly classes: (Int32Array | undefined)[] = [];
  private dependence: { value: number | undefined } | undefined;

  constructor(private readonly tf: Tf, private readonly exec: GraphExecutor, private readonly data: SyntheticData, private readonly settings: ExperimentSettings, private readonly sharing?: PassSharing) {
    data.heldOut.forEach((batch, j) => {
      const pass = forwardShared(exec, batch, { training: true, updateStats: false, onBatchNorm: (n, out) => mergeStats(this.sites, n.id, channelStats(tf, out)) }, sharing, `train:${j}`);
      this.calls = pass.calls;
      tf.dispose(pass.outputs.slice(1));
      this.outputs.push(pass.outputs[0]);
      this.classes.push(classes(tf, pass.outputs[0]));
    });
  }

  /** Share of predictions that change when a sample sits in another batch (measured once, on first use). */
  batchDependence(): number | undefined {
    this.dependence ??= { value: this.measureBatchDependence() };
    return this.dependence.value;
  }

  private measureBatchDependence(): number | undefined {
    const { tf, settings } = this;
    const half = Math.floor(settings.batch / 2);
    let changed = 0;
    let compared = 0;
    this.data.context.forEach((batch, j) => {
      const cTrain = this.classes[j];
      if (!cTrain) return;
      const other = forwardShared(this.exec, batch, { training: true, updateStats: false }, this.sharing, `context:${j}`);
      const cOther = classes(tf, other.outputs[0]);
      const count = half * (cTrain.length / settings.batch);
      if (cOther) {
        changed += (1 - sameShare(cTrain, cOther, count)) * count;
        compared += count;
      }
      tf.dispose(other.outputs);
    });
    return compared > 0 ? changed / compared : undefined;
  }

  dispose(): void {
    this.tf.dispose(this.outputs);
  }
}

/**
 * The model returns outputs of different shapes in training and in eval mode (a re-identification model's
 * forward returns class scores while `self.training`, the embedding otherwise): the two modes' outputs cannot
 * be compared element by element.
 */
export class ModeOutputsDiffer extends Error {
  constructor(
    readonly trainShape: number[],
    readonly evalShape: number[],
  ) {
    super(`training mode returns an output of shape [${trainShape.join(", ")}], eval mode one of shape [${evalShape.join(", ")}]`);
  }
}

/** The eval-mode measurements of a trained variant, compared with its train side. */
export function measureEval(tf: Tf, exec: GraphExecutor, data: SyntheticData, train: TrainSide, sharing?: PassSharing): VariantResult {
  const evalSites = new Map<number, SiteStats & { n: number }>();
  let same = 0;
  let total = 0;
  let diff = 0;
  let norm = 0;
  let hasClasses = true;
  const evalClasses: (Int32Array | undefined)[] = [];
  data.heldOut.forEach((batch, j) => {
    const evalPass = forwardShared(exec, batch, { training: false, updateStats: false, onBatchNorm: (n, out) => mergeStats(evalSites, n.id, channelStats(tf, out)) }, sharing, `eval:${j}`);
    const [yTrain, yEval] = [train.outputs[j], evalPass.outputs[0]];
    if (yTrain.shape.join() !== yEval.shape.join()) {
      const error = new ModeOutputsDiffer(yTrain.shape, yEval.shape);
      tf.dispose(evalPass.outputs);
      throw error;
    }
    diff += tf.tidy(() => tf.sum(tf.square(tf.sub(yEval, yTrain))).dataSync()[0]);
    norm += tf.tidy(() => tf.sum(tf.square(yTrain)).dataSync()[0]);
    const cTrain = train.classes[j];
    const cEval = classes(tf, yEval);
    evalClasses.push(cEval);
    if (cTrain && cEval) {
      same += sameShare(cTrain, cEval) * cTrain.length;
      total += cTrain.length;
    } else hasClasses = false;
    tf.dispose(evalPass.outputs);
  });
  return {
    agreement: hasClasses && total > 0 ? same / total : undefined,
    relativeDifference: Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12),
    trainSites: train.sites,
    evalSites,
    calls: train.calls,
    evalClasses,
    outputRank: train.outputs[0]?.rank,
  };
}

/**
 * Share of the written model's predictions that differ from eval mode when the held-out samples run in train
 * mode in batches of `size` (inference code often runs small batches, where batch statistics are noisiest).
 */
export function smallBatchDisagreement(tf: Tf, exec: GraphExecutor, data: SyntheticData, evalClasses: readonly (Int32Array | undefined)[], size: number): number | undefined {
  let differ = 0;
  let total = 0;
  data.heldOut.forEach((batch, j) => {
    const reference = evalClasses[j];
    const n = batch[0].shape[0];
    if (!reference || n % size !== 0) return;
    const perSample = reference.length / n; // positions per sample (1 for a [N, classes] output)
    for (let start = 0; start < n; start += size) {
      const part = batch.map((t) => tf.slice(t, start, size));
      try {
        const pass = exec.forward(part, { training: true, updateStats: false });
        const predicted = classes(tf, pass.outputs[0]);
        tf.dispose(pass.outputs);
        if (!predicted) return;
        for (let i = 0; i < predicted.length; i++) if (predicted[i] !== reference[start * perSample + i]) differ++;
        total += predicted.length;
      } finally {
        tf.dispose(part);
      }
    }
  });
  return total > 0 ? differ / total : undefined;
}

export interface CorrelatedBatches {
  /** Share of predictions that differ between train and eval mode; undefined without a class dimension. */
  predictions?: number;
  /** Per BatchNorm call node: ‖train-mode output − eval-mode output‖ / ‖eval-mode output‖. */
  sites: Map<number, number>;
}

/**
 * Train vs eval mode on batches whose samples resemble each other: each sample is 0.7 × a component shared by
 * its batch (see sharedComponent) + 0.7 × its own noise (unit variance, as the other batches). Real evaluation batches are often like
 * that (one class, one recording, one patient): train-mode BatchNorm subtracts what the samples share, eval
 * mode keeps it. Measured at every BatchNorm call and on the predictions.
 */
/**
 * What the samples of one batch share: the first sample's features for flat inputs; for images and sequences
 * (`[N, C, ...]`), a value per channel (the first sample's first position), as a colour cast or a recording's
 * level would be. (A whole shared noise image would barely move per-channel statistics.)
 */
function sharedComponent(tf: Tf, t: Tensor): Tensor {
  if (t.rank <= 2) return tf.slice(t, 0, 1);
  return tf.slice(t, Array(t.rank).fill(0), [1, t.shape[1]!, ...Array(t.rank - 2).fill(1)]);
}

/** A batch whose samples resemble each other (see correlatedBatches); token-id inputs are copied as they are. */
export function resemblingBatch(tf: Tf, batch: Tensor[], vocabs: SyntheticData["vocabs"]): Tensor[] {
  return batch.map((t, i) => tf.tidy(() => (vocabs?.[i] !== undefined ? tf.clone(t) : tf.add(tf.mul(sharedComponent(tf, t), Math.SQRT1_2), tf.mul(t, Math.SQRT1_2)))));
}

export function correlatedBatches(tf: Tf, exec: GraphExecutor, data: SyntheticData): CorrelatedBatches {
  let differ = 0;
  let total = 0;
  let hasClasses = true;
  const diff = new Map<number, number>();
  const norm = new Map<number, number>();
  for (const batch of data.heldOut) {
    // Token ids cannot be mixed: those inputs stay as they are, and the resemblance comes from the others.
    const mixed = resemblingBatch(tf, batch, data.vocabs);
    const trainOut = new Map<number, Tensor>();
    try {
      const train = exec.forward(mixed, { training: true, updateStats: false, onBatchNorm: (n, out) => trainOut.set(n.id, tf.keep(tf.clone(out.t))) });
      const evalPass = exec.forward(mixed, {
        training: false,
        updateStats: false,
        onBatchNorm: (n, out) => {
          const t = trainOut.get(n.id);
          if (!t || t.size !== out.t.size) return;
          const [d, e] = tf.tidy(() => [tf.sum(tf.square(tf.sub(t, out.t))).dataSync()[0], tf.sum(tf.square(out.t)).dataSync()[0]]);
          diff.set(n.id, (diff.get(n.id) ?? 0) + d);
          norm.set(n.id, (norm.get(n.id) ?? 0) + e);
        },
      });
      const [a, b] = [classes(tf, train.outputs[0]), classes(tf, evalPass.outputs[0])];
      tf.dispose([...train.outputs, ...evalPass.outputs]);
      if (a && b) {
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
        total += a.length;
      } else hasClasses = false;
    } finally {
      tf.dispose([...mixed, ...trainOut.values()]);
    }
  }
  const sites = new Map([...diff].map(([id, d]) => [id, Math.sqrt(d) / Math.max(Math.sqrt(norm.get(id) ?? 0), 1e-12)]));
  return { predictions: hasClasses && total > 0 ? differ / total : undefined, sites };
}

/** One variant measured on its own (`recorded`: the written model's training run, replayed when possible). */
export function runVariant(tf: Tf, graph: ForwardGraph, data: SyntheticData, settings: ExperimentSettings, variant: Variant, wantBatchDependence: boolean, recorded?: TrainingRecord): VariantResult {
  const exec = trainedExecutor(tf, graph, data, settings, variant, recorded);
  const train = new TrainSide(tf, exec, data, settings);
  try {
    const result = measureEval(tf, exec, data, train);
    if (wantBatchDependence) result.batchDependence = train.batchDependence();
    return result;
  } finally {
    train.dispose();
    exec.dispose();
  }
}

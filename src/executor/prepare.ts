/** Gets one model class ready to run: concrete constructor arguments, an executable graph, input shapes. */
import type { ModelArgs } from "../engine/linter.js";
import type { ModelClass, ModelIndex } from "../model/index-types.js";
import type { Tf } from "./tensor-lib.js";
import { type ConcreteModel, concreteModel, inferInputShapes } from "./instantiate.js";
import { type ExperimentSettings, type PassSharing, type SyntheticData, type Variant, type VariantResult, type CorrelatedBatches, TrainSide, correlatedBatches, measureEval, smallBatchDisagreement, syntheticData, syntheticBatch, trainedExecutor } from "./measure.js";
import { NotExecutable } from "./module-config.js";
import { ExecutionError, GraphExecutor, whyNotExecutable } from "./run-graph.js";
import { Rng } from "./rng.js";
import { type TrainingRecord, recordTraining } from "./replay.js";
import { changedBySkip, SharedPasses } from "./shared-passes.js";

export interface PreparedModel {
  readonly tf: Tf;
  readonly concrete: ConcreteModel;
  /** Input shapes the model runs with, or undefined when every candidate failed (`failure` says how). */
  readonly shapes?: number[][];
  /** Per input: the vocabulary of its token ids when an embedding reads it, else undefined. */
  readonly vocabs: readonly (number | undefined)[];
  readonly failure?: ExecutionError;
  /** "input [16, 3, 32, 32] (inferred from the first layer)" */
  readonly inputText: string;
  /** Memoised variants: "written", "split:<paths>", "skip:<paths>". */
  variant(key: string, variant: Variant, wantBatchDependence: boolean): VariantResult;
  /** Announces a skip variant before any variant runs: its passes then start from the written model's values. */
  plan(key: string, variant: Variant): void;
  /** One train-mode pass on a batch of `size`: PyTorch's error, or undefined when it runs. */
  trainPass(size: number): ExecutionError | undefined;
  /** The synthetic batches and the recorded training steps of the model as written (made once, on first use). */
  training(): { data: SyntheticData; recorded: TrainingRecord };
  /** The model as written, in train mode on held-out batches of `size`: the share of predictions unlike eval mode. */
  smallBatchDisagreement(size: number): number | undefined;
  /** The model as written on held-out batches whose samples share a component: train vs eval mode. */
  correlatedBatches(): CorrelatedBatches | undefined;
  dispose(): void;
}

export type Preparation = { ok: true; model: PreparedModel } | { ok: false; why: string };

function shapeText(shapes: number[][]): string {
  return shapes.map((s) => `[${s.join(", ")}]`).join(" and ");
}

/** When bnlint guessed constructor arguments, how to give the real ones (a class such as `block`, a list such as `layers`). */
function defaultHint(cls: ModelClass, concrete: ConcreteModel): string {
  if (concrete.defaulted.length === 0) return "";
  const example = concrete.defaulted.map((name) => `${name}=<value>`).join(",");
  return `; bnlint guessed ${concrete.defaulted.map((n) => `\`${n}\``).join(", ")}: pass the real values with --model-args ${cls.name}=${example} (a class of this file by its name, a list as [2,2])`;
}

export function prepareModel(tf: Tf, index: ModelIndex, cls: ModelClass, settings: ExperimentSettings, options: { modelArgs?: ModelArgs; inputShapes?: Record<string, number[]> }): Preparation {
  let concrete: ConcreteModel | undefined;
  try {
    concrete = concreteModel(index, cls, options.modelArgs);
  } catch (e) {
    return { ok: false, why: `\`${cls.name}\` could not be instantiated: ${(e as Error).message}` };
  }
  if (!concrete) return { ok: false, why: `\`${cls.name}\` has no forward method in this file` };
  const blocked = whyNotExecutable(concrete.graph);
  if (blocked) return { ok: false, why: `not executed: ${concrete.constructorText} contains ${blocked}${defaultHint(cls, concrete)}` };
  try {
    const given = options.inputShapes?.[cls.name] ?? options.inputShapes?.["*"];
    const { shapes: candidates, how, vocabs } = inferInputShapes(concrete.graph, settings.batch, given);
    let firstFailure: ExecutionError | undefined;
    let shapes: number[][] | undefined;
    for (const candidate of candidates) {
      const failure = probe(tf, concrete, candidate, settings.seed, vocabs);
      if (!failure) {
        shapes = candidate;
        break;
      }
      firstFailure ??= failure;
    }
    const memo = new Map<string, { result: VariantResult; train: TrainSide }>();
    /** Train sides by skipped set: splitting does not change train mode, so the fixed model borrows the written one's. */
    const trainSides = new Map<string, { side: TrainSide; exec: GraphExecutor }>();
    let data: SyntheticData | undefined;
    let recorded: TrainingRecord | undefined;
    const shared = new SharedPasses(tf, concrete.graph);
    const inputText = `input ${shapeText(shapes ?? candidates[0])} (${how === "given" ? "as configured" : how === "lazy" ? "chosen for a lazy first layer; set it with --input-shape" : "read off the first layer"})`;
    const model: PreparedModel = {
      tf,
      concrete: concrete,
      shapes,
      vocabs,
      failure: shapes ? undefined : firstFailure,
      inputText,
      trainPass(size) {
        return probe(tf, concrete!, shapes!, settings.seed, vocabs, size, true);
      },
      training() {
        data ??= syntheticData(tf, shapes!, settings, vocabs);
        recorded ??= recordOnce(tf, concrete!, data, settings.seed);
        return { data, recorded };
      },
      smallBatchDisagreement(size) {
        const written = model.variant("written", {}, false);
        const exec = trainSides.get("")?.exec;
        return exec && data ? smallBatchDisagreement(tf, exec, data, written.evalClasses, size) : undefined;
      },
      correlatedBatches() {
        model.variant("written", {}, false);
        const exec = trainSides.get("")?.exec;
        return exec && data ? correlatedBatches(tf, exec, data) : undefined;
      },
      plan(key, variant) {
        if (memo.size === 0) shared.plan(key, variant);
      },
      variant(key, variant, wantBatchDependence) {
        let run = memo.get(key);
        if (!run) {
          model.training();
          const exec = trainedExecutor(tf, concrete!.graph, data!, settings, variant, recorded);
          const skipKey = [...exec.skip].map((i) => i.id).sort((a, b) => a - b).join(",");
          const written = !variant.split?.size && !variant.skip?.size;
          const sharing: PassSharing | undefined = written ? { passes: shared, role: "keep" } : shared.has(key) ? { passes: shared, role: "reuse", key } : undefined;
          let train = trainSides.get(skipKey);
          try {
            if (!train) {
              train = { side: new TrainSide(tf, exec, data!, settings, sharing), exec }; // kept: batch dependence may be asked later
              trainSides.set(skipKey, train);
            }
            run = { result: measureEval(tf, exec, data!, train.side, sharing), train: train.side };
            if (sharing?.role === "reuse") fillUnchangedSites(run.result, memo.get("written")?.result, changedBySkip(concrete!.graph, variant));
            memo.set(key, run);
          } finally {
            if (train?.exec !== exec) exec.dispose();
          }
        }
        if (wantBatchDependence) run.result.batchDependence = run.train.batchDependence();
        return run.result;
      },
      dispose() {
        for (const t of trainSides.values()) {
          t.side.dispose();
          t.exec.dispose();
        }
        if (data) tf.dispose([...data.train.flat(), ...data.heldOut.flat(), ...data.context.flat()]);
        shared.dispose();
      },
    };
    return { ok: true, model };
  } catch (e) {
    if (e instanceof NotExecutable) return { ok: false, why: `not executed: ${concrete.constructorText} uses ${e.message}${defaultHint(cls, concrete)}` };
    throw e;
  }
}

/** A variant that reused the written model's values saw no BatchNorm call upstream of its change: those are the written model's. */
function fillUnchangedSites(result: VariantResult, written: VariantResult | undefined, changed: ReadonlySet<number>): void {
  if (!written) return;
  for (const [from, into] of [[written.trainSites, result.trainSites], [written.evalSites, result.evalSites]] as const) {
    for (const [id, stats] of from) if (!changed.has(id) && !into.has(id)) into.set(id, stats);
  }
}

/** The training steps of the model as written, run once and replayed by every variant. */
function recordOnce(tf: Tf, concrete: ConcreteModel, data: SyntheticData, seed: number): TrainingRecord {
  const exec = new GraphExecutor(tf, concrete.graph, seed);
  try {
    return recordTraining(tf, exec, data.train);
  } finally {
    exec.dispose();
  }
}

/** One eval-mode pass on a batch of 2; returns PyTorch's error if the shapes do not fit. */
function probe(tf: Tf, concrete: ConcreteModel, shapes: number[][], seed: number, vocabs: readonly (number | undefined)[], batch = 2, training = false): ExecutionError | undefined {
  const exec = new GraphExecutor(tf, concrete.graph, seed);
  const rng = new Rng(seed + 7);
  const inputs = shapes.map((s, i) => syntheticBatch(tf, rng, [batch, ...s.slice(1)], vocabs[i]));
  try {
    tf.dispose(exec.forward(inputs, { training, updateStats: false }).outputs);
    return undefined;
  } catch (e) {
    if (e instanceof ExecutionError) return e;
    throw e;
  } finally {
    tf.dispose(inputs);
    exec.dispose();
  }
}

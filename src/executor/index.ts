/**
 * `--confirm`: proves each finding with numbers by running the model (loaded only under --confirm, so plain
 * lint runs never pay for the tensor library). Adds a `confirmation` to each diagnostic, in place.
 */
import type { ModelArgs } from "../engine/linter.js";
import type { Diagnostic } from "../engine/diagnostic.js";
import type { ModelClass, ModelIndex } from "../model/index-types.js";
import { batchNormConfiguredAt } from "../model/queries.js";
import { loadTensorLib } from "./tensor-lib.js";
import { DEFAULT_EXPERIMENT, ModeOutputsDiffer, type ExperimentSettings } from "./measure.js";
import { prepareModel, type Preparation, type PreparedModel } from "./prepare.js";
import { confirmBatchSizeOne, confirmMissingEval, confirmMomentum, confirmOnLogits, confirmReuse, confirmShapeMismatch, confirmUnused, instanceAt } from "./confirm.js";
import { allInstances, ExecutionError } from "./run-graph.js";
import { NotExecutable } from "./module-config.js";

export interface ConfirmOptions {
  modelArgs?: ModelArgs;
  inputShapes?: Record<string, number[]>;
  settings?: Partial<ExperimentSettings>;
}

/** The on-logits confirmations of one model run it without a BatchNorm: plan those variants before any runs. */
function planSkips(model: PreparedModel, findings: Diagnostic[]): void {
  for (const d of findings) {
    if (d.ruleId !== "batchnorm-on-logits") continue;
    const inst = instanceAt(model.concrete.graph, d.modulePath);
    if (inst) model.plan(`skip:${d.modulePath}`, { skip: new Set([inst]) });
  }
}

const CONFIRMABLE = new Set(["reused-batchnorm", "unused-batchnorm", "batchnorm-on-logits", "batchnorm-shape-mismatch", "missing-eval", "batchnorm-momentum", "batchnorm-batch-size-one"]);

export async function confirmDiagnostics(index: ModelIndex, diagnostics: Diagnostic[], options: ConfirmOptions = {}): Promise<void> {
  // A wasted bias changes no output: there is nothing to measure, and the confirmation says so rather than nothing.
  for (const d of diagnostics) {
    if (d.ruleId === "conv-bias-before-batchnorm") d.confirmation = { status: "not-run", summary: "no numeric check for this rule: the bias is cancelled by the BatchNorm's mean subtraction, so outputs do not change", metrics: {} };
  }
  const targets = diagnostics.filter((d) => d.ruleId !== null && CONFIRMABLE.has(d.ruleId) && !d.fatal);
  if (targets.length === 0) return;
  const tf = await loadTensorLib();
  const settings: ExperimentSettings = { ...DEFAULT_EXPERIMENT, ...options.settings };
  const prepared = new Map<string, Preparation>();
  const prepare = (cls: ModelClass): Preparation => {
    let prep = prepared.get(cls.name);
    if (!prep) {
      prep = prepareModel(tf, index, cls, settings, options);
      prepared.set(cls.name, prep);
      if (prep.ok) planSkips(prep.model, targets.filter((o) => o.model === cls.name));
    }
    return prep;
  };
  try {
    for (const d of targets) {
      try {
        confirmOne(d);
      } catch (e) {
        // A failure of the executor on one finding must not take the finding (or the others) with it.
        d.confirmation = { status: "not-run", summary: `the executor failed (${(e as Error).message.replace(/\.+$/, "")}); this is a bnlint bug, please report it with this file`, metrics: {} };
      }
    }
  } finally {
    for (const p of prepared.values()) if (p.ok) p.model.dispose();
  }

  function confirmOne(d: Diagnostic): void {
    if (d.ruleId === "batchnorm-momentum" && d.messageId === "assigned") {
      d.confirmation = { status: "not-run", summary: "a momentum set after construction: the executor builds each BatchNorm from its constructor arguments", metrics: {} };
      return;
    }
    if (d.ruleId === "batchnorm-momentum" && d.messageId === "eps") {
      d.confirmation = { status: "not-run", summary: "bnlint has no numeric check for an eps finding (the executor measures running statistics, which eps does not change)", metrics: {} };
      return;
    }
    if (d.ruleId === "batchnorm-momentum" && d.messageId === "torch" && !d.model) {
      // The lint's own graphs use constructor defaults; with the executor's arguments (--model-args
      // `batch_norm=True`) a model of the file may create this BatchNorm after all.
      const found = momentumModelByArgs(index, d, prepare);
      if (found) {
        d.confirmation = found.model.shapes ? confirmMomentum(found.model, settings, d, found.path) : { status: "not-run", summary: `execution of ${found.model.concrete.constructorText} stopped at line ${found.model.failure!.node.range.start.line}: ${found.model.failure!.pyType}: ${found.model.failure!.text}`, metrics: {} };
        return;
      }
    }
    const cls = d.model ? index.classByName.get(d.model) : undefined;
    if (!cls) {
      const summary = d.model
        ? `\`${d.model}\` is not a model class of this file: bnlint executes only those`
        : d.ruleId === "batchnorm-momentum" && d.messageId === "keras"
          ? "a Keras layer: the executor runs PyTorch models"
          : d.ruleId === "batchnorm-momentum"
            ? "no model class of this file, built with the arguments bnlint uses, creates and calls this BatchNorm (if a constructor argument switches it on, set it with --model-args, e.g. Net=batch_norm=True)"
            : "the finding names no model class to execute";
      d.confirmation = { status: "not-run", summary, metrics: {} };
      return;
    }
    const prep = prepare(cls);
    if (!prep.ok) {
      d.confirmation = { status: "not-run", summary: prep.why, metrics: {} };
      return;
    }
    const model = prep.model;
    try {
      if (d.ruleId === "batchnorm-shape-mismatch") d.confirmation = confirmShapeMismatch(model, d);
      else if (d.ruleId === "batchnorm-batch-size-one" && model.shapes) d.confirmation = confirmBatchSizeOne(model, d);
      else if (!model.shapes) {
        const f = model.failure!;
        d.confirmation = { status: "not-run", summary: `execution of ${model.concrete.constructorText} stopped at line ${f.node.range.start.line}: ${f.pyType}: ${f.text}`, metrics: {} };
      } else if (d.ruleId === "reused-batchnorm") {
        const reused = targets.filter((o) => o.ruleId === "reused-batchnorm" && o.model === d.model && o.modulePath).map((o) => o.modulePath!);
        d.confirmation = confirmReuse(model, settings, d, [...new Set(reused)]);
      } else if (d.ruleId === "unused-batchnorm") d.confirmation = confirmUnused(model, settings, d);
      else if (d.ruleId === "batchnorm-on-logits") d.confirmation = confirmOnLogits(model, settings, d);
      else if (d.ruleId === "missing-eval") d.confirmation = confirmMissingEval(model, settings);
      else if (d.ruleId === "batchnorm-momentum") d.confirmation = confirmMomentum(model, settings, d);
    } catch (e) {
      if (e instanceof ExecutionError) d.confirmation = { status: "not-run", summary: `execution stopped at line ${e.node.range.start.line}: ${e.pyType}: ${e.text}`, metrics: {} };
      else if (e instanceof NotExecutable) d.confirmation = { status: "not-run", summary: `not executed: ${model.concrete.constructorText} uses ${e.message}`, metrics: {} };
      else if (e instanceof ModeOutputsDiffer) d.confirmation = modeOutputsDiffer(d, model, e);
      else throw e;
    }
  }
}

/**
 * A model whose forward returns something else in training mode (`if self.training: return self.classifier(f)`):
 * for missing-eval that is the evidence itself, since the evaluation code receives the training-mode output;
 * the other rules compare the two modes' outputs, which cannot be done.
 */
function modeOutputsDiffer(d: Diagnostic, model: PreparedModel, e: ModeOutputsDiffer): Diagnostic["confirmation"] {
  const shapes = { trainShape: JSON.stringify(e.trainShape), evalShape: JSON.stringify(e.evalShape) };
  if (d.ruleId === "missing-eval") {
    return {
      status: "confirmed",
      summary: `called in training mode, as this code calls it, ${model.concrete.constructorText} returns a different output: shape [${e.trainShape.join(", ")}] where eval mode returns [${e.evalShape.join(", ")}] (its forward depends on \`self.training\`). Ran ${model.inputText}.`,
      metrics: { ...shapes, model: model.concrete.constructorText },
    };
  }
  return { status: "not-run", summary: `${model.concrete.constructorText} returns outputs of different shapes in training and eval mode ([${e.trainShape.join(", ")}] and [${e.evalShape.join(", ")}]), so the two modes cannot be compared`, metrics: shapes };
}

/** At most this many model classes are built to find the one that creates a BatchNorm. */
const MAX_SEARCHED_MODELS = 8;

/** A model class whose executable graph, built with the executor's arguments, creates the BatchNorm that `d` configures. */
function momentumModelByArgs(index: ModelIndex, d: Diagnostic, prepare: (cls: ModelClass) => Preparation): { model: PreparedModel; path: string } | undefined {
  const models = index.classes.filter((c) => c.isModel).slice(0, MAX_SEARCHED_MODELS);
  for (const cls of models) {
    const prep = prepare(cls);
    if (!prep.ok) continue;
    const inst = allInstances(prep.model.concrete.graph).find(
      (i) => batchNormConfiguredAt(i, d.range),
    );
    if (inst) return { model: prep.model, path: inst.paths[0] };
  }
  return undefined;
}

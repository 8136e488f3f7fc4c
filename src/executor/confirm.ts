/** Turns the experiment's numbers into a confirmation for each kind of finding. */
import type { Confirmation, Diagnostic } from "../engine/diagnostic.js";
import type { ForwardGraph, GraphNode } from "../model/graph.js";
import type { ModuleInstance } from "../model/values.js";
import { callChain, instancePythonPath, nodePythonPath, pythonPath, runsOf } from "../model/queries.js";
import type { PreparedModel } from "./prepare.js";
import { allInstances } from "./run-graph.js";
import { modeBranchLine } from "./branches.js";
import type { ExperimentSettings, SiteStats, VariantResult } from "./measure.js";
import { type MomentumTrack, momentumTracks } from "./momentum.js";

/** A site's eval-mode output must move this far (|Δmean| + |Δstd|, per channel) from train mode… */
export const SITE_SHIFT_MIN = 0.1;
/** …and this many times further than in the fixed model, for a reuse finding to be confirmed. */
export const SITE_SHIFT_RATIO = 2;
/** A BatchNorm on the logits is confirmed when it adds this much batch dependence or train/eval disagreement. */
export const LOGITS_EFFECT_MIN = 0.05;
/** A model called in training mode is confirmed to misbehave when this share of its predictions is affected. */
export const TRAIN_MODE_EFFECT_MIN = 0.05;
/** Small batches, as inference code often runs them (2: the least BatchNorm1d accepts in training mode). */
const SMALL_BATCH = 2;

const pct = (x: number | undefined): string => (x === undefined ? "n/a" : `${Math.round(x * 100)}%`);
const num = (x: number): string => x.toFixed(2);
const round = (x: number): number => Number(x.toFixed(4));

/** The module at `path`, wherever it was created (a submodule's own `__init__` included). */
export function instanceAt(graph: ForwardGraph, path: string | undefined): ModuleInstance | undefined {
  return path === undefined ? undefined : allInstances(graph).find((i) => i.paths.includes(path));
}

/** The run of `inst` that a finding points at: its call chain passes through the finding's range. */
function runAt(graph: ForwardGraph, inst: ModuleInstance, d: Diagnostic): GraphNode | undefined {
  return runsOf(graph, inst).find((n) => callChain(n).some((r) => r.startIndex === d.range.startIndex && r.endIndex === d.range.endIndex));
}

function shift(train: SiteStats, evalStats: SiteStats): number {
  return Math.abs(evalStats.mean - train.mean) + Math.abs(evalStats.std - train.std);
}

function setup(model: PreparedModel, settings: ExperimentSettings): string {
  return `${model.concrete.constructorText}, ${model.inputText}, ${settings.steps} train-mode steps`;
}

function notRun(summary: string): Confirmation {
  return { status: "not-run", summary, metrics: {} };
}

export function confirmReuse(model: PreparedModel, settings: ExperimentSettings, d: Diagnostic, reusedPaths: string[]): Confirmation {
  const graph = model.concrete.graph;
  const inst = instanceAt(graph, d.modulePath);
  const run = inst && runAt(graph, inst, d);
  if (!inst || !run) return notRun(`the call at line ${d.range.start.line} was not found in the executed graph of ${model.concrete.constructorText}`);
  const split = new Set(reusedPaths.map((p) => instanceAt(graph, p)).filter((i): i is ModuleInstance => !!i));
  const written = model.variant("written", {}, false);
  const fixed = model.variant(`split:${[...reusedPaths].sort().join(",")}`, { split }, false);
  // The reported call, or the instance's other call whose eval-mode output moved most (both see mixed statistics).
  const candidates = [run, ...runsOf(graph, inst).filter((n) => n !== run)]
    .map((n) => ({ n, w: siteNumbers(written, n), f: siteNumbers(fixed, n) }))
    .filter((c): c is { n: GraphNode; w: NonNullable<typeof c.w>; f: NonNullable<typeof c.f> } => !!c.w && !!c.f);
  if (candidates.length === 0) return notRun(`the call at line ${d.range.start.line} did not run`);
  const shiftOf = (c: (typeof candidates)[number]): number => shift(c.w.train, c.w.eval);
  const worst = candidates.reduce((a, b) => (shiftOf(b) > shiftOf(a) + 0.05 ? b : a));
  const { w, f } = worst;
  const sw = shift(w.train, w.eval);
  const sf = shift(f.train, f.eval);
  const siteConfirms = sw >= SITE_SHIFT_MIN && sw >= SITE_SHIFT_RATIO * sf;
  // When forward branches on `self.training`, the two modes' outputs come from different code: only the
  // predictions (top-1) and the BatchNorm calls themselves are compared.
  const modeLine = modeBranchLine(graph);
  const outputConfirms = modeLine === undefined && written.relativeDifference >= SITE_SHIFT_MIN && written.relativeDifference >= SITE_SHIFT_RATIO * fixed.relativeDifference;
  const confirmed = siteConfirms || outputConfirms;
  const siteLine = worst.n.range.start.line;
  const site = `at line ${siteLine} eval-mode output has mean ${num(w.eval.mean)}, std ${num(w.eval.std)} where train mode gives ${num(w.train.mean)}, ${num(w.train.std)} (fixed: ${num(f.eval.mean)}, ${num(f.eval.std)})`;
  const outputText = modeLine === undefined
    ? `relative output difference ${num(written.relativeDifference)} (fixed: ${num(fixed.relativeDifference)})`
    : `output values not compared (forward runs other code in eval mode, line ${modeLine})`;
  // On a map (a block's features, a segmentation), "agreement" compares the top channel at each position.
  const agreementName = (written.outputRank ?? 2) > 2 ? "train/eval agreement of the top channel at each position" : "train/eval agreement";
  const model_ = `${agreementName} ${pct(written.agreement)} (fixed: ${pct(fixed.agreement)}), ${outputText}`;
  const verdict = confirmed ? "" : "; the running statistics fit this call about as well as a BatchNorm of its own would, so the numbers do not show the reuse harming eval mode";
  return {
    status: confirmed ? "confirmed" : "not-confirmed",
    summary: `${model_}; ${site}${verdict}. Ran ${setup(model, settings)}.`,
    metrics: {
      agreement: round(written.agreement ?? NaN),
      fixedAgreement: round(fixed.agreement ?? NaN),
      relativeDifference: round(written.relativeDifference),
      fixedRelativeDifference: round(fixed.relativeDifference),
      siteLine,
      siteTrainMean: round(w.train.mean),
      siteTrainStd: round(w.train.std),
      siteEvalMean: round(w.eval.mean),
      siteEvalStd: round(w.eval.std),
      fixedSiteEvalMean: round(f.eval.mean),
      fixedSiteEvalStd: round(f.eval.std),
      steps: settings.steps,
      input: JSON.stringify(model.shapes),
      model: model.concrete.constructorText,
    },
  };
}

function siteNumbers(v: VariantResult, run: GraphNode): { train: SiteStats; eval: SiteStats } | undefined {
  const train = v.trainSites.get(run.id);
  const evalStats = v.evalSites.get(run.id);
  return train && evalStats ? { train, eval: evalStats } : undefined;
}

export function confirmUnused(model: PreparedModel, settings: ExperimentSettings, d: Diagnostic): Confirmation {
  const inst = instanceAt(model.concrete.graph, d.modulePath);
  if (!inst) return notRun(`\`${pythonPath(d.modulePath!)}\` was not found in the executed model ${model.concrete.constructorText}`);
  const written = model.variant("written", {}, false);
  const calls = written.calls.get(inst.id) ?? 0;
  return {
    status: calls === 0 ? "confirmed" : "not-confirmed",
    summary: calls === 0
      ? `\`${instancePythonPath(inst)}\` was never invoked during execution (${settings.steps} train-mode forward passes, then held-out batches in train and eval mode). Ran ${setup(model, settings)}.`
      : `\`${instancePythonPath(inst)}\` ran ${calls} time${calls === 1 ? "" : "s"} per forward pass. Ran ${setup(model, settings)}.`,
    metrics: { calls, steps: settings.steps, model: model.concrete.constructorText },
  };
}

export function confirmOnLogits(model: PreparedModel, settings: ExperimentSettings, d: Diagnostic): Confirmation {
  const inst = instanceAt(model.concrete.graph, d.modulePath);
  if (!inst) return notRun(`\`${pythonPath(d.modulePath!)}\` was not found in the executed model ${model.concrete.constructorText}`);
  const written = model.variant("written", {}, true);
  const without = model.variant(`skip:${d.modulePath}`, { skip: new Set([inst]) }, true);
  if (written.batchDependence === undefined || written.agreement === undefined) return notRun(`the output of ${model.concrete.constructorText} has no class dimension to compare predictions`);
  const dependence = written.batchDependence;
  const dependenceWithout = without.batchDependence ?? 0;
  const disagreement = 1 - written.agreement;
  const disagreementWithout = 1 - (without.agreement ?? 1);
  const confirmed = dependence >= dependenceWithout + LOGITS_EFFECT_MIN || disagreement >= disagreementWithout + LOGITS_EFFECT_MIN;
  return {
    status: confirmed ? "confirmed" : "not-confirmed",
    summary: `in train mode ${pct(dependence)} of predictions change when the same sample sits in a different batch (without this BatchNorm: ${pct(dependenceWithout)}); train/eval disagreement ${pct(disagreement)} (without: ${pct(disagreementWithout)})${confirmed ? "" : "; the numbers do not show this BatchNorm changing predictions"}. Ran ${setup(model, settings)}.`,
    metrics: {
      batchDependence: round(dependence),
      batchDependenceWithout: round(dependenceWithout),
      disagreement: round(disagreement),
      disagreementWithout: round(disagreementWithout),
      steps: settings.steps,
      model: model.concrete.constructorText,
    },
  };
}

/**
 * `missing-eval`: the evaluation code calls the model in training mode. The numbers: how many predictions change
 * when the same sample sits in another batch (train-mode BatchNorm normalises each batch with its own
 * statistics), and how many differ from what the model predicts after `model.eval()`.
 */
export function confirmMissingEval(model: PreparedModel, settings: ExperimentSettings): Confirmation {
  const written = model.variant("written", {}, true);
  if (written.batchDependence === undefined || written.agreement === undefined) return notRun(`the output of ${model.concrete.constructorText} has no class dimension to compare predictions`);
  const dependence = written.batchDependence;
  const disagreement = 1 - written.agreement;
  const small = model.smallBatchDisagreement(SMALL_BATCH);
  const correlated = model.correlatedBatches();
  // The BatchNorm call whose output moves most between the modes on batches of resembling samples.
  const site = correlated && [...correlated.sites].sort((a, b) => b[1] - a[1])[0];
  const siteNode = site && model.concrete.graph.nodes[site[0]];
  const confirmed = [dependence, disagreement, small ?? 0, correlated?.predictions ?? 0].some((x) => x >= TRAIN_MODE_EFFECT_MIN) || (site?.[1] ?? 0) >= SITE_SHIFT_MIN;
  const independent = `${pct(disagreement)} in batches of ${settings.batch}${small === undefined ? "" : `, ${pct(small)} in batches of ${SMALL_BATCH}`}`;
  const resembling = correlated?.predictions === undefined ? "" : `on batches whose samples resemble each other (as one class or one source would) ${pct(correlated.predictions)} of predictions differ from those after model.eval()`;
  const siteText = site && siteNode ? `${resembling ? " and" : "on batches whose samples resemble each other"} the output of \`${nodePythonPath(siteNode)}\` (line ${siteNode.range.start.line}) differs from eval mode by ${pct(site[1])} of its size` : "";
  return {
    status: confirmed ? "confirmed" : "not-confirmed",
    summary: `called in training mode, as this code calls it: ${resembling}${siteText}; on independent samples ${independent}; ${pct(dependence)} of predictions change when the same sample sits in a different batch${confirmed ? "" : "; the numbers do not show training mode changing the model's outputs"}. Ran ${setup(model, settings)}.`,
    metrics: {
      batchDependence: round(dependence),
      disagreement: round(disagreement),
      ...(small === undefined ? {} : { smallBatchDisagreement: round(small), smallBatch: SMALL_BATCH }),
      ...(correlated?.predictions === undefined ? {} : { correlatedBatchDisagreement: round(correlated.predictions) }),
      ...(site && siteNode ? { batchNormOutputDifference: round(site[1]), batchNormLine: siteNode.range.start.line } : {}),
      relativeDifference: round(written.relativeDifference),
      steps: settings.steps,
      model: model.concrete.constructorText,
    },
  };
}

export function confirmShapeMismatch(model: PreparedModel, d: Diagnostic): Confirmation {
  const failure = model.failure;
  const inst = instanceAt(model.concrete.graph, d.modulePath);
  if (failure && (failure.node.instance === inst || failure.node.range.startIndex === d.range.startIndex)) {
    return {
      status: "confirmed",
      summary: `execution stops at line ${failure.node.range.start.line} with PyTorch's error "${failure.pyType}: ${failure.text}"${failure.inputShape ? ` on an input of shape [${failure.inputShape.join(", ")}]` : ""}. Ran ${model.concrete.constructorText}, ${model.inputText}.`,
      metrics: { error: `${failure.pyType}: ${failure.text}`, line: failure.node.range.start.line, inputShape: JSON.stringify(failure.inputShape ?? []) },
    };
  }
  if (failure) return notRun(`execution stopped earlier, at line ${failure.node.range.start.line}: ${failure.pyType}: ${failure.text}`);
  return { status: "not-confirmed", summary: `${model.concrete.constructorText} ran without a shape error, ${model.inputText}.`, metrics: { input: JSON.stringify(model.shapes) } };
}

/** A momentum finding is confirmed when the written momentum's statistics stray this much (relative)… */
export const MOMENTUM_ERROR_MIN = 0.05;

/**
 * `batchnorm-momentum`: how far the running statistics stray from the settled ones (the average over the
 * training batches) with the written momentum and with the other framework's equivalent, and what the
 * statistics of the last training step do to eval-mode predictions.
 */
export function confirmMomentum(model: PreparedModel, settings: ExperimentSettings, d: Diagnostic, path = d.modulePath): Confirmation {
  const inst = instanceAt(model.concrete.graph, path);
  if (!inst) return notRun(`the BatchNorm at line ${d.range.start.line} was not found in the executed model ${model.concrete.constructorText}`);
  const { data } = model.training();
  const tracks = momentumTracks(model.tf, model.concrete.graph, settings.seed, data, inst);
  if (!tracks) return notRun(`\`${instancePythonPath(inst)}\` did not update running statistics during execution of ${model.concrete.constructorText}`);
  const [w, a] = tracks;
  const confirmed =
    (w.varError >= MOMENTUM_ERROR_MIN && w.varError >= SITE_SHIFT_RATIO * a.varError) ||
    (w.meanError >= MOMENTUM_ERROR_MIN && w.meanError >= SITE_SHIFT_RATIO * a.meanError) ||
    (w.outputDifference >= SITE_SHIFT_MIN && w.outputDifference >= SITE_SHIFT_RATIO * a.outputDifference) ||
    (w.predictionChange ?? 0) >= (a.predictionChange ?? 0) + TRAIN_MODE_EFFECT_MIN;
  const effect = (t: MomentumTrack): string => `the model's output moves by ${num(t.outputDifference)} of its size${t.predictionChange === undefined ? "" : ` and ${pct(t.predictionChange)} of predictions change`}`;
  const effectShort = (t: MomentumTrack): string => `${num(t.outputDifference)}${t.predictionChange === undefined ? "" : ` and ${pct(t.predictionChange)}`}`;
  const verdict = confirmed ? "" : "; the batches' statistics vary too little here for the momentum to matter";
  return {
    status: confirmed ? "confirmed" : "not-confirmed",
    summary: `with momentum=${w.momentum} the running statistics of \`${instancePythonPath(inst)}\` follow the last batches: over ${settings.steps} train-mode steps on batches whose samples resemble each other (as one class or one source makes real batches), its running mean is off the settled value by ${num(w.meanError)} std on average and its running variance by ${pct(w.varError)} (momentum=${a.momentum}: ${num(a.meanError)} std and ${pct(a.varError)}); in eval mode with the statistics of the last step, ${effect(w)} (momentum=${a.momentum}: ${effectShort(a)})${verdict}. Ran ${setup(model, settings)}.`,
    metrics: {
      momentum: w.momentum,
      alternativeMomentum: a.momentum,
      varianceError: round(w.varError),
      alternativeVarianceError: round(a.varError),
      meanError: round(w.meanError),
      alternativeMeanError: round(a.meanError),
      ...(w.predictionChange === undefined ? {} : { predictionChange: round(w.predictionChange), alternativePredictionChange: round(a.predictionChange ?? NaN) }),
      outputDifference: round(w.outputDifference),
      alternativeOutputDifference: round(a.outputDifference),
      steps: settings.steps,
      model: model.concrete.constructorText,
    },
  };
}

/**
 * `batchnorm-batch-size-one`: one train-mode pass on a batch of one sample, as the reported loader gives it. PyTorch
 * refuses a BatchNorm that would normalise one value per channel, with the error the executor reproduces.
 */
export function confirmBatchSizeOne(model: PreparedModel, d: Diagnostic): Confirmation {
  const inst = instanceAt(model.concrete.graph, d.modulePath);
  const failure = model.trainPass(1);
  const ran = `Ran ${model.concrete.constructorText}, ${model.inputText.replace(/^input \[\d+/, "input [1")}.`;
  if (failure && (!inst || failure.node.instance === inst)) {
    return {
      status: "confirmed",
      summary: `a train-mode forward pass on a batch of one sample stops at line ${failure.node.range.start.line} with PyTorch's error "${failure.pyType}: ${failure.text}". ${ran}`,
      metrics: { error: `${failure.pyType}: ${failure.text}`, line: failure.node.range.start.line, batch: 1 },
    };
  }
  if (failure) return notRun(`a train-mode pass on a batch of one stopped earlier, at line ${failure.node.range.start.line}: ${failure.pyType}: ${failure.text}`);
  return { status: "not-confirmed", summary: `a train-mode forward pass on a batch of one sample runs without an error. ${ran}`, metrics: { batch: 1 } };
}

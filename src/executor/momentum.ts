/**
 * What a BatchNorm's `momentum` does to its running statistics. The model runs its training steps on batches
 * whose samples resemble each other (a shared component per batch, as one class or one source gives real batches:
 * independent noise would make every batch's statistics alike and any momentum look harmless). The running
 * statistics are replayed with the written momentum and with the other framework's equivalent, each starting
 * where long training would have left them (the average of the batches' statistics), and compared with that
 * average at every step. The model then runs in eval mode with the statistics of the last step, against the
 * settled ones.
 */
import type { ForwardGraph } from "../model/graph.js";
import type { ModuleInstance } from "../model/values.js";
import type { Tf } from "./tensor-lib.js";
import { classes, resemblingBatch, type SyntheticData } from "./measure.js";
import { type BatchStatsRecord, recordTraining, replayTraining } from "./replay.js";
import { GraphExecutor } from "./run-graph.js";

export interface MomentumTrack {
  momentum: number;
  /** Mean over steps and channels of |running mean − settled mean| / settled std. */
  meanError: number;
  /** Mean over steps and channels of |running variance − settled variance| / settled variance. */
  varError: number;
  /** Share of eval-mode predictions on held-out batches that differ from those with settled statistics. */
  predictionChange?: number;
  /** ‖eval output − eval output with settled statistics‖ / ‖the latter‖, on held-out batches. */
  outputDifference: number;
}

/** Statistics after each recorded step, replayed with `momentum` from the settled values. */
function replay(records: BatchStatsRecord[], momentum: number, settledMean: Float64Array, settledVar: Float64Array): { means: Float64Array[]; vars: Float64Array[] } {
  const mean = Float64Array.from(settledMean);
  const variance = Float64Array.from(settledVar);
  const means: Float64Array[] = [];
  const vars: Float64Array[] = [];
  for (const r of records) {
    const unbias = r.n / (r.n - 1);
    for (let c = 0; c < mean.length; c++) {
      mean[c] = (1 - momentum) * mean[c] + momentum * r.mean[c];
      variance[c] = (1 - momentum) * variance[c] + momentum * r.biasedVar[c] * unbias;
    }
    means.push(Float64Array.from(mean));
    vars.push(Float64Array.from(variance));
  }
  return { means, vars };
}

function averageError(values: Float64Array[], settled: Float64Array, scale: (c: number) => number): number {
  let sum = 0;
  for (const v of values) for (let c = 0; c < v.length; c++) sum += Math.abs(v[c] - settled[c]) / scale(c);
  return sum / (values.length * settled.length);
}

/**
 * The written momentum's track and that of the other framework's equivalent (`1 - momentum`: Keras' 0.9 is
 * PyTorch's 0.1), or undefined when the BatchNorm never ran in training (or keeps no running statistics).
 */
export function momentumTracks(tf: Tf, graph: ForwardGraph, seed: number, data: SyntheticData, inst: ModuleInstance): MomentumTrack[] | undefined {
  const batches = data.train.map((b) => resemblingBatch(tf, b, data.vocabs));
  const recorder = new GraphExecutor(tf, graph, seed);
  let recorded;
  try {
    recorded = recordTraining(tf, recorder, batches);
  } finally {
    recorder.dispose();
    tf.dispose(batches.flat());
  }
  const records = recorded.flat().filter((r) => r.inst === inst);
  if (records.length < 2 || records.some((r) => r.n < 2)) return undefined;
  const channels = records[0].mean.length;
  const settledMean = new Float64Array(channels);
  const settledVar = new Float64Array(channels);
  for (const r of records) {
    const unbias = r.n / (r.n - 1);
    for (let c = 0; c < channels; c++) {
      settledMean[c] += r.mean[c] / records.length;
      settledVar[c] += (r.biasedVar[c] * unbias) / records.length;
    }
  }
  const exec = new GraphExecutor(tf, graph, seed);
  try {
    replayTraining(exec, recorded, "average");
    const state = exec.instanceState(inst);
    if (typeof state.momentum !== "number" || !state.runningMean || !state.runningVar) return undefined;
    const settled = { mean: Float32Array.from(state.runningMean), var: Float32Array.from(state.runningVar) };
    const reference = evalOutputs(tf, exec, data);
    const alternative = Number((1 - state.momentum).toPrecision(6));
    const tracks = [state.momentum, alternative].map((momentum): MomentumTrack => {
      const { means, vars } = replay(records, momentum, settledMean, settledVar);
      state.runningMean!.set(means[means.length - 1]);
      state.runningVar!.set(vars[vars.length - 1]);
      const outputs = evalOutputs(tf, exec, data);
      state.runningMean!.set(settled.mean);
      state.runningVar!.set(settled.var);
      let changed = 0;
      let total = 0;
      let diff = 0;
      let norm = 0;
      outputs.forEach((o, j) => {
        const ref = reference[j];
        for (let i = 0; i < o.values.length; i++) {
          diff += (o.values[i] - ref.values[i]) ** 2;
          norm += ref.values[i] ** 2;
        }
        if (o.classes && ref.classes) {
          for (let i = 0; i < o.classes.length; i++) if (o.classes[i] !== ref.classes[i]) changed++;
          total += o.classes.length;
        }
      });
      return {
        momentum,
        meanError: averageError(means, settledMean, (c) => Math.sqrt(Math.max(settledVar[c], 1e-12))),
        varError: averageError(vars, settledVar, (c) => Math.max(settledVar[c], 1e-12)),
        predictionChange: total > 0 ? changed / total : undefined,
        outputDifference: Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12),
      };
    });
    return tracks;
  } finally {
    exec.dispose();
  }
}

/** Eval-mode outputs (values and top-1 classes) on the held-out batches. */
function evalOutputs(tf: Tf, exec: GraphExecutor, data: SyntheticData): { values: Float32Array; classes?: Int32Array }[] {
  return data.heldOut.map((batch) => {
    const pass = exec.forward(batch, { training: false, updateStats: false });
    try {
      return { values: pass.outputs[0].dataSync() as Float32Array, classes: classes(tf, pass.outputs[0]) };
    } finally {
      tf.dispose(pass.outputs);
    }
  });
}

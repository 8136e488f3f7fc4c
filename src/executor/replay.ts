/**
 * Train-mode activations do not depend on running statistics, nor on whether a BatchNorm is split per call
 * site (each split copy starts with the same weight and bias, and weights are never trained). So one
 * recorded training run of the model as written yields every BatchNorm call's batch statistics for every
 * variant; a variant's running statistics are PyTorch's update rule replayed over them, in call order.
 * Only a skipped BatchNorm changes activations downstream of it: such variants train for real.
 */
import type { ForwardGraph, GraphNode } from "../model/graph.js";
import type { ModuleInstance } from "../model/values.js";
import { isBatchNorm } from "../model/queries.js";
import type { Tensor, Tf } from "./tensor-lib.js";
import { updateRunningStats } from "./batchnorm.js";
import type { GraphExecutor } from "./run-graph.js";

export interface BatchStatsRecord {
  node: GraphNode;
  inst: ModuleInstance;
  mean: Float32Array;
  biasedVar: Float32Array;
  n: number;
}

/** One record list per training step, in call order. */
export type TrainingRecord = BatchStatsRecord[][];

/** Runs the training steps on `exec` (the model as written) and records every running-statistics update. */
export function recordTraining(tf: Tf, exec: GraphExecutor, batches: Tensor[][]): TrainingRecord {
  return batches.map((batch) => {
    const step: BatchStatsRecord[] = [];
    const onBatchStats = (node: GraphNode, inst: ModuleInstance, mean: Float32Array, biasedVar: Float32Array, n: number): void => {
      step.push({ node, inst, mean: Float32Array.from(mean), biasedVar: Float32Array.from(biasedVar), n });
    };
    tf.dispose(exec.forward(batch, { training: true, updateStats: true, onBatchStats }).outputs);
    return step;
  });
}

/** False when a skipped BatchNorm feeds another BatchNorm call, whose batch statistics then differ. */
export function canReplay(graph: ForwardGraph, skip: ReadonlySet<ModuleInstance>): boolean {
  if (skip.size === 0) return true;
  const changed = new Set<number>();
  for (const n of graph.nodes) {
    const skipped = n.op === "call_module" && !!n.instance && skip.has(n.instance);
    const downstream = n.inputs.some((id) => changed.has(id));
    if (downstream && !skipped && n.op === "call_module" && n.instance && isBatchNorm(n.instance)) return false;
    if (skipped || downstream) changed.add(n.id);
  }
  return true;
}

/**
 * How running statistics follow the recorded batches. `"pytorch"`: PyTorch's update rule (`momentum`, or a
 * cumulative average for `momentum=None`), from mean 0 / variance 1. `"average"`: the plain average of every
 * batch's statistics, which is what PyTorch's running statistics settle to when the weights do not change (as
 * here: no gradient step is taken); it carries nothing of the initial values and averages all T batches
 * equally, where momentum 0.1 weighs the last few most (T = 12 averaged batches are as precise as ~25 steps of
 * the momentum rule).
 */
export type RunningStatsRule = "pytorch" | "average";

export function replayTraining(exec: GraphExecutor, record: TrainingRecord, rule: RunningStatsRule): void {
  for (const step of record) {
    for (const r of step) {
      if (exec.skip.has(r.inst)) continue;
      const st = exec.batchNormState(r.node, r.inst);
      updateRunningStats(st, r.mean, r.biasedVar, r.n, rule === "average" ? 1 / (st.numBatchesTracked + 1) : undefined);
    }
  }
}

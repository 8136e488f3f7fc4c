// The executor trains the model as written once and replays the recorded batch statistics for each variant
// (src/executor/replay.ts). That shortcut must give the running statistics a real training run of the variant
// gives, and must refuse variants whose activations differ (a skipped BatchNorm upstream of another one).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePython } from "../src/frontend/python/parser.js";
import { indexPython } from "../src/frontend/python/indexer.js";
import { concreteModel, inferInputShapes, type ConcreteModel } from "../src/executor/instantiate.js";
import { loadTensorLib, type Tensor, type Tf } from "../src/executor/tensor-lib.js";
import { GraphExecutor } from "../src/executor/run-graph.js";
import { syntheticData, type SyntheticData } from "../src/executor/measure.js";
import { canReplay, recordTraining, replayTraining, type TrainingRecord } from "../src/executor/replay.js";
import { isBatchNorm } from "../src/model/queries.js";
import type { ModuleInstance } from "../src/model/values.js";
import type { GraphNode } from "../src/model/graph.js";
import { readText } from "./helpers/expectations.js";

const SEED = new URL("../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;
const settings = { steps: 5, batch: 8, seed: 0 };

let tf: Tf;
let model: ConcreteModel;
let data: SyntheticData;
let record: TrainingRecord;
let bnCalls: { node: GraphNode; inst: ModuleInstance }[];

function instance(attr: string): ModuleInstance {
  const found = bnCalls.find((c) => c.inst.paths[0] === attr)?.inst;
  if (!found) throw new Error(`no BatchNorm call of ${attr} in the seed graph`);
  return found;
}

/** Trains a fresh executor of the variant for real on the same batches. */
function trainForReal(variant: { split?: Set<ModuleInstance>; skip?: Set<ModuleInstance> }): GraphExecutor {
  const exec = new GraphExecutor(tf, model.graph, settings.seed, variant);
  for (const batch of data.train) tf.dispose(exec.forward(batch, { training: true, updateStats: true }).outputs);
  return exec;
}

function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-6));
  return worst;
}

beforeAll(async () => {
  tf = await loadTensorLib();
  const text = readText(SEED);
  const tree = await parsePython(text);
  try {
    const index = indexPython(SEED, text, tree);
    const cls = index.classes.find((c) => c.name === "Keras_Cifar2")!;
    model = concreteModel(index, cls, undefined)!;
  } finally {
    tree.delete();
  }
  const shapes = inferInputShapes(model.graph, settings.batch, undefined).shapes[0];
  data = syntheticData(tf, shapes, settings);
  bnCalls = model.graph.nodes.filter((n) => n.op === "call_module" && n.instance && isBatchNorm(n.instance)).map((node) => ({ node, inst: node.instance! }));
  const written = new GraphExecutor(tf, model.graph, settings.seed);
  try {
    record = recordTraining(tf, written, data.train);
  } finally {
    written.dispose();
  }
}, 60_000);

afterAll(() => {
  const all: Tensor[] = [...data.train.flat(), ...data.heldOut.flat(), ...data.context.flat()];
  tf.dispose(all);
});

describe("replaying recorded training", () => {
  it("records one update per BatchNorm call per step, in call order", () => {
    expect(record).toHaveLength(settings.steps);
    for (const step of record) expect(step.map((r) => r.node.id)).toEqual(bnCalls.map((c) => c.node.id));
  });

  it("gives the fixed model (one BatchNorm per call site) the running statistics its own training gives", () => {
    const split = new Set([instance("bn_6"), instance("bn_7"), instance("bn_2")]);
    const real = trainForReal({ split });
    const replayed = new GraphExecutor(tf, model.graph, settings.seed, { split });
    try {
      replayTraining(replayed, record, "pytorch");
      for (const { node, inst } of bnCalls) {
        const a = replayed.batchNormState(node, inst);
        const b = real.batchNormState(node, inst);
        expect(a.numBatchesTracked, `${inst.paths[0]} at node ${node.id}`).toBe(settings.steps);
        expect(b.numBatchesTracked).toBe(settings.steps);
        expect(maxRelativeDifference(a.runningMean!, b.runningMean!), `${inst.paths[0]} running mean`).toBeLessThanOrEqual(1e-5);
        expect(maxRelativeDifference(a.runningVar!, b.runningVar!), `${inst.paths[0]} running var`).toBeLessThanOrEqual(1e-5);
      }
      // Split copies of one BatchNorm end with different statistics: each saw one call site's distribution.
      const bn6 = bnCalls.filter((c) => c.inst.paths[0] === "bn_6");
      expect(maxRelativeDifference(replayed.batchNormState(bn6[0].node, bn6[0].inst).runningVar!, replayed.batchNormState(bn6[1].node, bn6[1].inst).runningVar!)).toBeGreaterThan(0.01);
    } finally {
      real.dispose();
      replayed.dispose();
    }
  });

  it("replays the written model's own training exactly", () => {
    const real = trainForReal({});
    const replayed = new GraphExecutor(tf, model.graph, settings.seed);
    try {
      replayTraining(replayed, record, "pytorch");
      for (const path of ["bn_6", "bn_7", "bn_2", "bn_4", "bn_5"]) {
        const inst = instance(path);
        expect([...replayed.instanceState(inst).runningMean!]).toEqual([...real.instanceState(inst).runningMean!]);
        expect([...replayed.instanceState(inst).runningVar!]).toEqual([...real.instanceState(inst).runningVar!]);
      }
    } finally {
      real.dispose();
      replayed.dispose();
    }
  });

  it("refuses a variant that skips a BatchNorm feeding another one, and accepts one that skips the last", () => {
    expect(canReplay(model.graph, new Set([instance("bn_6")]))).toBe(false);
    expect(canReplay(model.graph, new Set([instance("bn_5")]))).toBe(true);
    expect(canReplay(model.graph, new Set())).toBe(true);
  });
});

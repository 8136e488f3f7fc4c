// A variant without the logits BatchNorm starts its passes from the written model's kept values
// (src/executor/shared-passes.ts): its numbers must be exactly those of running it whole.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePython } from "../src/frontend/python/parser.js";
import { indexPython } from "../src/frontend/python/indexer.js";
import type { ModelIndex } from "../src/model/index-types.js";
import { loadTensorLib, type Tf } from "../src/executor/tensor-lib.js";
import { prepareModel, type PreparedModel } from "../src/executor/prepare.js";
import { DEFAULT_EXPERIMENT } from "../src/executor/measure.js";
import { instanceAt } from "../src/executor/confirm.js";
import { GraphExecutor } from "../src/executor/run-graph.js";
import { changedBySkip } from "../src/executor/shared-passes.js";
import { readText } from "./helpers/expectations.js";

const SEED = new URL("../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;
let tf: Tf;
let index: ModelIndex;
let deleteTree: () => void;

function prepared(): PreparedModel {
  const cls = index.classes.find((c) => c.name === "Keras_Cifar2")!;
  const p = prepareModel(tf, index, cls, DEFAULT_EXPERIMENT, {});
  if (!p.ok) throw new Error(p.why);
  return p.model;
}

beforeAll(async () => {
  tf = await loadTensorLib();
  const text = readText(SEED);
  const tree = await parsePython(text);
  deleteTree = () => tree.delete(); // the model is instantiated from the syntax tree in each test
  index = indexPython(SEED, text, tree);
}, 60_000);

afterAll(() => deleteTree());

describe("shared measurement passes", () => {
  it("the skip variant's numbers are those of running it whole, computing fewer nodes", () => {
    const whole = prepared();
    const shared = prepared();
    const skip = { skip: new Set([instanceAt(whole.concrete.graph, "bn_5")!]) };
    const skipShared = { skip: new Set([instanceAt(shared.concrete.graph, "bn_5")!]) };
    shared.plan("skip:bn_5", skipShared);

    // Nodes computed (runNode is private: counted from outside through the prototype).
    let computed = 0;
    const proto = GraphExecutor.prototype as unknown as { runNode: (...args: unknown[]) => unknown };
    const original = proto.runNode;
    proto.runNode = function (...args: unknown[]) {
      computed++;
      return original.apply(this, args);
    };
    try {
      whole.variant("written", {}, true);
      let before = computed;
      const a = whole.variant("skip:bn_5", skip, true);
      const computedWhole = computed - before;
      shared.variant("written", {}, true);
      before = computed;
      const b = shared.variant("skip:bn_5", skipShared, true);
      const computedShared = computed - before;
      // The variant's 12 measurement passes compute only the nodes from bn_5 on.
      expect(computedShared).toBeLessThan(computedWhole / 4);
      expect(b.agreement).toBe(a.agreement);
      expect(b.relativeDifference).toBe(a.relativeDifference);
      expect(b.batchDependence).toBe(a.batchDependence);
      expect([...b.trainSites].sort()).toEqual([...a.trainSites].sort());
      expect([...b.evalSites].sort()).toEqual([...a.evalSites].sort());
    } finally {
      proto.runNode = original;
      whole.dispose();
      shared.dispose();
    }
  });

  it("marks the skipped call and everything after it as changed, nothing before", () => {
    const model = prepared();
    try {
      const graph = model.concrete.graph;
      const bn5 = instanceAt(graph, "bn_5")!;
      const changed = changedBySkip(graph, { skip: new Set([bn5]) });
      const call = graph.nodes.find((n) => n.instance === bn5)!;
      expect(changed.has(call.id)).toBe(true);
      expect(graph.nodes.filter((n) => n.id < call.id && changed.has(n.id))).toEqual([]);
      for (const id of graph.outputs) expect(changed.has(id)).toBe(true);
    } finally {
      model.dispose();
    }
  });
});

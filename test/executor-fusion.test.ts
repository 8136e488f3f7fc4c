// A ReLU right after a convolution runs inside the convolution kernel (run-graph.ts, `fusibleRelus`): the
// pass must give exactly what running the two nodes one after the other gives. A pass that keeps node values
// by id runs them apart, so it serves as the reference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePython } from "../src/frontend/python/parser.js";
import { indexPython } from "../src/frontend/python/indexer.js";
import { loadTensorLib, type Tf } from "../src/executor/tensor-lib.js";
import { prepareModel } from "../src/executor/prepare.js";
import { DEFAULT_EXPERIMENT } from "../src/executor/measure.js";
import { GraphExecutor } from "../src/executor/run-graph.js";
import { readText } from "./helpers/expectations.js";

const SEED = new URL("../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;
let tf: Tf;
let release: () => void = () => {};

beforeAll(async () => {
  tf = await loadTensorLib();
}, 60_000);

afterAll(() => release());

describe("convolution + ReLU fusion", () => {
  it("gives the outputs and running statistics of running the ReLU on its own", async () => {
    const text = readText(SEED);
    const tree = await parsePython(text);
    release = () => tree.delete();
    const index = indexPython(SEED, text, tree);
    const prep = prepareModel(tf, index, index.classByName.get("Keras_Cifar2")!, DEFAULT_EXPERIMENT, {});
    if (!prep.ok) throw new Error(prep.why);
    const graph = prep.model.concrete.graph;
    const relus = graph.nodes.filter((n) => /relu/.test(n.target));
    expect(relus.length).toBeGreaterThan(0);
    const fused = new GraphExecutor(tf, graph, 0);
    const apart = new GraphExecutor(tf, graph, 0);
    const x = tf.randomNormal(prep.model.shapes[0], 0, 1, "float32", 7);
    for (let step = 0; step < 3; step++) {
      const a = fused.forward([x], { training: true, updateStats: true });
      const b = apart.forward([x], { training: true, updateStats: true, keep: new Set() });
      expect(Array.from(a.outputs[0].dataSync())).toEqual(Array.from(b.outputs[0].dataSync()));
      tf.dispose([...a.outputs, ...b.outputs]);
    }
    for (const n of graph.nodes.filter((m) => m.op === "call_module" && m.instance?.qualname === "torch.nn.BatchNorm2d")) {
      const [sa, sb] = [fused.instanceState(n.instance!), apart.instanceState(n.instance!)];
      expect(Array.from(sa.runningMean!)).toEqual(Array.from(sb.runningMean!));
    }
    tf.dispose(x);
    fused.dispose();
    apart.dispose();
    prep.model.dispose();
  });
});

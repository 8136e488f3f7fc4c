// A ReLU right after a convolution or a BatchNorm runs inside that node's kernel (run-graph.ts, `fusibleRelus`):
// the pass must give exactly what running the two nodes one after the other gives, in train and eval mode. A
// pass that keeps node values by id runs them apart, so it serves as the reference.
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

// conv -> BatchNorm -> ReLU, the torchvision order, with the functional and the module ReLU.
const CONV_BN_RELU = `
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean((2, 3)))
`;

const CASES = [
  { name: "seed model: ReLU after a convolution", path: SEED, text: () => readText(SEED), cls: "Keras_Cifar2", fusedAfter: "torch.nn.Conv2d" },
  { name: "conv -> BatchNorm -> ReLU", path: "block.py", text: () => CONV_BN_RELU, cls: "Block", fusedAfter: "torch.nn.BatchNorm2d" },
];

describe("ReLU fusion", () => {
  it.each(CASES)("$name: gives the outputs and running statistics of running the ReLU on its own", async ({ path, text: source, cls, fusedAfter }) => {
    const text = source();
    const tree = await parsePython(text);
    const previous = release;
    release = () => {
      previous();
      tree.delete();
    };
    const index = indexPython(path, text, tree);
    const prep = prepareModel(tf, index, index.classByName.get(cls)!, DEFAULT_EXPERIMENT, {});
    if (!prep.ok) throw new Error(prep.why);
    const graph = prep.model.concrete.graph;
    // The case has a ReLU whose only input is the kind of node it should fuse into.
    const relus = graph.nodes.filter((n) => /relu/i.test(n.target));
    expect(relus.some((r) => graph.nodes[r.inputs[0]!]?.instance?.qualname === fusedAfter)).toBe(true);
    const fused = new GraphExecutor(tf, graph, 0);
    const apart = new GraphExecutor(tf, graph, 0);
    const x = tf.randomNormal(prep.model.shapes[0], 0, 1, "float32", 7);
    for (const training of [true, true, true, false]) {
      const a = fused.forward([x], { training, updateStats: training });
      const b = apart.forward([x], { training, updateStats: training, keep: new Set() });
      expect(Array.from(a.outputs[0].dataSync())).toEqual(Array.from(b.outputs[0].dataSync()));
      tf.dispose([...a.outputs, ...b.outputs]);
    }
    // A pass that observes BatchNorm outputs (the measurements) sees them before the ReLU.
    const observed = (exec: GraphExecutor, keep?: Set<number>): number[][] => {
      const seen: number[][] = [];
      const pass = exec.forward([x], { training: false, updateStats: false, keep, onBatchNorm: (_, out) => seen.push(Array.from(out.t.dataSync())) });
      tf.dispose(pass.outputs);
      return seen;
    };
    const [seenFused, seenApart] = [observed(fused), observed(apart, new Set())];
    expect(seenFused.length).toBeGreaterThan(0);
    expect(seenFused.map((values) => values.length)).toEqual(seenApart.map((values) => values.length));
    // Counted rather than compared element-wise: a diff of thousands of numbers would bury the failure.
    const differing = seenFused.flatMap((values, i) => values.filter((v, j) => v !== seenApart[i]![j])).length;
    expect(differing).toBe(0);
    expect(seenFused.some((values) => values.some((v) => v < 0))).toBe(true);
    for (const n of graph.nodes.filter((m) => m.op === "call_module" && m.instance?.qualname === "torch.nn.BatchNorm2d")) {
      const [sa, sb] = [fused.instanceState(n.instance!), apart.instanceState(n.instance!)];
      expect(Array.from(sa.runningMean!)).toEqual(Array.from(sb.runningMean!));
      expect(Array.from(sa.runningVar!)).toEqual(Array.from(sb.runningVar!));
    }
    tf.dispose(x);
    fused.dispose();
    apart.dispose();
    prep.model.dispose();
  });
});

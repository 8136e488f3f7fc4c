/**
 * Exports one executed model for a differential check against PyTorch: the weights as a state dict, the
 * synthetic batches, and what the executor computed from them (running statistics after the train-mode
 * steps, the eval-mode output of a held-out batch). test/python/executor_diff.py replays it in PyTorch.
 */
import type { ModelArgs } from "../engine/linter.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ModelClass, ModelIndex } from "../model/index-types.js";
import { isBatchNorm } from "../model/queries.js";
import { loadTensorLib } from "./tensor-lib.js";
import type { ExperimentSettings } from "./measure.js";
import { syntheticData } from "./measure.js";
import { prepareModel } from "./prepare.js";
import { GraphExecutor, allInstances } from "./run-graph.js";

export interface ExportManifest {
  file: string;
  className: string;
  kwargs: Record<string, unknown>;
  steps: number;
  inputShapes: number[][];
  /** Per input: the vocabulary of its token ids (PyTorch gets them as int64), or null for float inputs. */
  inputVocabs: (number | null)[];
  /** State-dict entries in weights.bin (float32), in order. */
  params: { key: string; shape: number[]; length: number }[];
  /** Input batches in inputs.bin (float32): `steps` train batches, then the held-out batch; each lists every input. */
  batches: number;
  executor: { runningStats: Record<string, { mean: number[]; var: number[] }>; evalOutput: number[]; evalShape: number[] };
}

function concatFloat(parts: Float32Array[]): Buffer {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return Buffer.from(out.buffer);
}

export async function exportExecution(index: ModelIndex, cls: ModelClass, dir: string, settings: ExperimentSettings, options: { modelArgs?: ModelArgs; inputShapes?: Record<string, number[]> } = {}): Promise<{ manifest: ExportManifest } | { why: string }> {
  const tf = await loadTensorLib();
  try {
    return await exportPrepared(tf, index, cls, dir, settings, options);
  } catch (e) {
    // A model that raises while running (as PyTorch would) is reported, not thrown.
    return { why: `execution failed: ${(e as Error).message}` };
  }
}

async function exportPrepared(tf: Awaited<ReturnType<typeof loadTensorLib>>, index: ModelIndex, cls: ModelClass, dir: string, settings: ExperimentSettings, options: { modelArgs?: ModelArgs; inputShapes?: Record<string, number[]> }): Promise<{ manifest: ExportManifest } | { why: string }> {
  const prep = prepareModel(tf, index, cls, settings, options);
  if (!prep.ok) return { why: prep.why };
  const model = prep.model;
  if (!model.shapes) return { why: `execution stopped: ${model.failure?.message}` };
  const graph = model.concrete.graph;
  const data = syntheticData(tf, model.shapes, settings, model.vocabs);
  const exec = new GraphExecutor(tf, graph, settings.seed);
  try {
    for (const batch of data.train) tf.dispose(exec.forward(batch, { training: true, updateStats: true }).outputs);
    const out = exec.forward(data.heldOut[0], { training: false, updateStats: false }).outputs[0];
    const params: ExportManifest["params"] = [];
    const parts: Float32Array[] = [];
    const runningStats: ExportManifest["executor"]["runningStats"] = {};
    const add = (key: string, shape: number[], values: Float32Array | undefined): void => {
      if (!values) return;
      params.push({ key, shape, length: values.length });
      parts.push(values);
    };
    for (const inst of allInstances(graph)) {
      const path = inst.paths[0];
      if (path === undefined) continue;
      if (!exec.hasSizes(inst)) continue; // a lazy module that never ran
      const layer = exec.layerParams.get(inst.id);
      if (layer) {
        add(`${path}.weight`, layer.weightShape!, layer.weight);
        add(`${path}.bias`, [layer.bias?.length ?? 0], layer.bias);
        for (const [name, p] of layer.named ?? []) add(`${path}.${name}`, p.shape, p.values);
      }
      if (isBatchNorm(inst)) {
        const st = exec.instanceState(inst);
        if (st.runningMean) runningStats[path] = { mean: Array.from(st.runningMean), var: Array.from(st.runningVar!) };
      }
    }
    const manifest: ExportManifest = {
      file: index.filePath,
      className: cls.name,
      kwargs: model.concrete.kwargs,
      steps: settings.steps,
      inputShapes: model.shapes,
      inputVocabs: model.vocabs.map((v) => v ?? null),
      params,
      batches: settings.steps + 1,
      executor: { runningStats, evalOutput: Array.from(out.dataSync()), evalShape: out.shape },
    };
    tf.dispose(out);
    const inputs = [...data.train, data.heldOut[0]].flat().map((t) => t.dataSync() as Float32Array);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "weights.bin"), concatFloat(parts));
    writeFileSync(join(dir, "inputs.bin"), concatFloat(inputs));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    return { manifest };
  } finally {
    exec.dispose();
    model.dispose();
    tf.dispose([...data.train.flat(), ...data.heldOut.flat(), ...data.context.flat()]);
  }
}

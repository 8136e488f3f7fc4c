/** Hover on a BatchNorm declaration or call: its call sites per model and, when the shape pass knew it, the incoming shape. */
import type { Hover } from "vscode-languageserver/node";
import { parsePython } from "../frontend/python/parser.js";
import { indexPython } from "../frontend/python/indexer.js";
import { analyzePython } from "../frontend/python/analyze.js";
import { batchNormRuns, constructorLabel, instancePythonPath, isBatchNorm } from "../model/queries.js";
import { symToString } from "../model/symbolic.js";
import { rangeKey, type SourceRange } from "../model/source.js";
import type { Shape } from "../model/graph.js";
import type { ModuleInstance } from "../model/values.js";
import { toLspRange } from "./convert.js";

export interface BatchNormRun {
  /** Where a hover finds the call: the callee (`self.bn_6`), or the entry of an nn.Sequential. */
  range: SourceRange;
  inputShape?: string;
}

/** One BatchNorm declaration of the file, with its runs in each model whose forward reaches it. */
export interface BatchNormInfo {
  name: string;
  ctor: string;
  declaration: SourceRange;
  /** Runs per model (as shown: "`Net`", or "`Net` as `self.a.bn`" for a submodule's instance). */
  runsByModel: Map<string, BatchNormRun[]>;
  /** Handed to code bnlint cannot see, so calls there are unknown. */
  escaped: boolean;
}

export function formatShape(shape: Shape): string {
  return `[${shape.dims.map((d) => (d === undefined ? "?" : symToString(d))).join(", ")}]`;
}

/** Every BatchNorm the analysis knows in `text`; empty when the text does not parse. */
export async function collectBatchNorms(text: string, filePath: string): Promise<BatchNormInfo[]> {
  const tree = await parsePython(text);
  try {
    if (tree.rootNode.hasError) return [];
    const analysis = analyzePython(indexPython(filePath, text, tree));
    // A class analysed on its own and inlined into a bigger model yields several instances of one declaration.
    const byDeclaration = new Map<string, BatchNormInfo>();
    const infoFor = (inst: ModuleInstance): BatchNormInfo => {
      const key = rangeKey(inst.ctorRange);
      let info = byDeclaration.get(key);
      if (!info) {
        const name = inst.paths[0] ? instancePythonPath(inst) : inst.ctorText;
        info = { name, ctor: constructorLabel(inst), declaration: inst.declStatement ?? inst.ctorRange, runsByModel: new Map(), escaped: false };
        byDeclaration.set(key, info);
      }
      info.escaped ||= inst.escaped;
      return info;
    };
    for (const graph of analysis.graphs) {
      // Declared but never run: still hoverable (graph.instances holds the class's own modules).
      for (const inst of graph.instances) if (isBatchNorm(inst)) infoFor(inst);
      for (const [inst, runs] of batchNormRuns(graph)) {
        const info = infoFor(inst);
        // Each instance separately: two Blocks' BatchNorms share a declaration but not their statistics.
        const path = inst.paths[0] ? instancePythonPath(inst) : undefined;
        const label = path && path !== info.name ? `\`${graph.modelClass.name}\` as \`${path}\`` : `\`${graph.modelClass.name}\``;
        const list = info.runsByModel.get(label) ?? [];
        for (const run of runs) {
          const input = run.inputs[0] !== undefined ? graph.nodes[run.inputs[0]] : undefined;
          list.push({ range: run.calleeRange ?? run.range, inputShape: input?.shape ? formatShape(input.shape) : undefined });
        }
        info.runsByModel.set(label, list);
      }
    }
    return [...byDeclaration.values()];
  } finally {
    tree.delete();
  }
}

function contains(r: SourceRange, offset: number): boolean {
  return r.startIndex <= offset && offset < r.endIndex;
}

function describe(info: BatchNormInfo, at: BatchNormRun | undefined): string {
  const lines = [`**\`${info.name}\`** · \`${info.ctor}\` · declared at line ${info.declaration.start.line}`, ""];
  if (info.runsByModel.size === 0) {
    lines.push(info.escaped ? "Handed to code bnlint cannot see: its calls are unknown." : "No call in a forward pass that bnlint could follow.");
  } else {
    lines.push("Runs per forward pass:");
    for (const [model, runs] of info.runsByModel) {
      const where = [...new Set(runs.map((r) => r.range.start.line))].join(", ");
      lines.push(`- ${model}: ${runs.length === 1 ? "once" : `${runs.length} times`} (line${runs.length === 1 ? "" : "s"} ${where})`);
    }
  }
  if (at?.inputShape) lines.push("", `Incoming shape here: \`${at.inputShape}\``);
  return lines.join("\n");
}

/** The hover for `offset` (an index into the text), or undefined when it is not on a BatchNorm. */
export function hoverAt(infos: readonly BatchNormInfo[], offset: number): Hover | undefined {
  let best: { info: BatchNormInfo; range: SourceRange; run?: BatchNormRun } | undefined;
  const consider = (info: BatchNormInfo, range: SourceRange, run?: BatchNormRun) => {
    // The innermost range wins: a call inside another BatchNorm's argument, a declaration inside a Sequential.
    if (contains(range, offset) && (!best || range.endIndex - range.startIndex < best.range.endIndex - best.range.startIndex)) best = { info, range, run };
  };
  for (const info of infos) {
    consider(info, info.declaration);
    for (const runs of info.runsByModel.values()) for (const run of runs) consider(info, run.range, run);
  }
  if (!best) return undefined;
  return { contents: { kind: "markdown", value: describe(best.info, best.run) }, range: toLspRange(best.range) };
}

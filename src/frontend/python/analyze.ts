import type { SyntaxNode } from "./parser.js";
import type { FileAnalysis } from "../../model/analysis.js";
import type { ForwardGraph } from "../../model/graph.js";
import type { ModelClass, ModelIndex } from "../../model/index-types.js";
import { buildForwardGraph } from "./forward-graph.js";
import { propagateShapes, type GraphShapes } from "../../passes/shapes.js";
import { analyzeScripts } from "./scripts.js";
import { findSmallBatchLoops, type SmallBatchLoop } from "./loaders.js";
import type { ScriptAnalysis } from "../../model/eval-mode.js";
import { FileBudget } from "./interp-support.js";
import { BATCHNORM_BUILDER_TEXT } from "../../model/builders.js";
import { classesReachingBatchNorm } from "./batchnorm-reach.js";

/**
 * `.name` not followed by `=` (an attribute store, `self.bn = ...` or `self.bn: nn.Module = ...`), or a quoted
 * identifier (`getattr(self, "bn")`).
 */
const ATTRIBUTE_READ = /\.\s*([A-Za-z_]\w*)(\s*(?::[^=\n]*)?=(?!=))?|(['"])([A-Za-z_]\w*)\3/g;

/**
 * Attribute reads in `text` by name: `x.name` outside `x.name = ...` stores, and identifier-like strings
 * (`getattr`). Read off the text rather than the syntax tree, which would mean materialising every node of the
 * file; a mention in a docstring counts as a read, which only makes bnlint quieter.
 */
export function countAttributeReads(node: SyntaxNode): Map<string, number> {
  // Comments are blanked: a commented-out call (`# x = self.bn2(x)`) is not a read.
  const source = node.text;
  const pieces: string[] = [];
  let from = 0;
  for (const [start, end] of node.offsetsOfType("comment")) {
    pieces.push(source.slice(from, start - node.startIndex), " ");
    from = end - node.startIndex;
  }
  pieces.push(source.slice(from));
  const text = pieces.join("");
  const counts = new Map<string, number>();
  for (const m of text.matchAll(ATTRIBUTE_READ)) {
    if (m[2] !== undefined) continue; // a store
    const name = m[1] ?? m[4];
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/**
 * Classes named inside another model class's body are its submodules (or may be): they are not top level.
 * A word search in the other classes' text (cheap, and a mention in a comment only makes bnlint quieter).
 */
function topLevelModels(index: ModelIndex): Set<ModelClass> {
  const models = index.classes.filter((c) => c.isModel);
  const isMentionedElsewhere = (cls: ModelClass): boolean => {
    const word = new RegExp(`(^|[^\\w])${cls.name}($|[^\\w])`);
    return models.some((other) => other !== cls && word.test(index.text.slice(other.range.startIndex, other.range.endIndex)));
  };
  return new Set(models.filter((c) => !isMentionedElsewhere(c)));
}

/**
 * Every BatchNorm the analysis can create is named in the file by text containing "BatchNorm"
 * (`nn.BatchNorm2d`, a star-imported `BatchNorm2d`, a `norm_layer` default, `torch.nn.modules.batchnorm`).
 * Graph rules are about BatchNorm models (the shape rule checks Linear layers of those models too), so a file
 * without that text has no graph finding and its graphs are not built.
 */
const GRAPH_RULE_TEXT = /BatchNorm/;
/**
 * Evaluation-mode analysis needs a BatchNorm model: an in-file class naming BatchNorm, or a call of a torchvision
 * builder, whose name the text spells whatever the import (`resnet18`, `models.resnet18`, `as backbone`). A file
 * that only imports torchvision (torchvision's own sources, data scripts) has no such model.
 */
function mayHaveScriptModel(text: string): boolean {
  return text.includes("BatchNorm") || BATCHNORM_BUILDER_TEXT.test(text);
}
/** Batch-of-one analysis looks at loops over a DataLoader. */
const LOADER_TEXT = /DataLoader/;

export interface AnalysisOptions {
  /** The file's text, to decide without indexing whether graphs can hold a BatchNorm at all. */
  text?: string;
  /** Input shape per model class name; `*` applies to every top-level model (`LintOptions.inputShapes`). */
  inputShapes?: Record<string, number[]>;
  /**
   * Attribute reads in code that belongs to the file but is left out of this text (the language server lints a
   * file in parts: see engine/units.ts). Added to the reads counted here.
   */
  extraAttributeReads?: (name: string) => number;
}

function buildGraphs(index: ModelIndex): ForwardGraph[] {
  const graphs: ForwardGraph[] = [];
  const budget = new FileBudget();
  const reaching = classesReachingBatchNorm(index);
  for (const cls of index.classes) {
    if (!cls.isModel || !reaching.has(cls)) continue;
    const g = buildForwardGraph(index, cls, budget);
    if (g) graphs.push(g);
  }
  return graphs;
}

/**
 * The analysis of one file, computed on first use: the index (or a thunk building it) is only read when a rule
 * asks for graphs, so a file whose rules need nothing costs its parse and no more.
 */
export function analyzePython(index: ModelIndex | (() => ModelIndex), options: AnalysisOptions = {}): FileAnalysis {
  const getIndex = typeof index === "function" ? index : () => index;
  const source = options.text ?? (typeof index === "function" ? undefined : index.text);
  let graphs: ForwardGraph[] | undefined;
  let topLevel: Set<ModelClass> | undefined;
  let reads: Map<string, number> | undefined;
  let scripts: ScriptAnalysis | undefined;
  let smallBatchLoops: SmallBatchLoop[] | undefined;
  const shapes = new Map<ForwardGraph, GraphShapes>();
  const analysis: FileAnalysis = {
    get graphs() {
      graphs ??= GRAPH_RULE_TEXT.test(source ?? getIndex().text) ? buildGraphs(getIndex()) : [];
      return graphs;
    },
    get topLevelModels() {
      topLevel ??= topLevelModels(getIndex());
      return topLevel;
    },
    shapes(graph: ForwardGraph): GraphShapes {
      let result = shapes.get(graph);
      if (!result) {
        const name = graph.modelClass.name;
        const key = options.inputShapes?.[name] ? name : analysis.topLevelModels.has(graph.modelClass) && options.inputShapes?.["*"] ? "*" : undefined;
        const inputShape = key ? options.inputShapes![key] : undefined;
        result = propagateShapes(graph, { text: getIndex().text, inputShape, inputShapeText: inputShape && (key === "*" ? inputShape.join(",") : `${name}=${inputShape.join(",")}`) });
        shapes.set(graph, result);
      }
      return result;
    },
    attributeReads(name: string): number {
      reads ??= countAttributeReads(getIndex().tree.rootNode);
      return (reads.get(name) ?? 0) + (options.extraAttributeReads?.(name) ?? 0);
    },
    scripts(): ScriptAnalysis {
      // A model with BatchNorm is an in-file class (its text names BatchNorm) or a torchvision builder.
      scripts ??= mayHaveScriptModel(source ?? getIndex().text) ? analyzeScripts(getIndex(), analysis.graphs) : { trainModeEvalCalls: [] };
      return scripts;
    },
    smallBatchLoops(): readonly SmallBatchLoop[] {
      smallBatchLoops ??= LOADER_TEXT.test(source ?? getIndex().text) ? findSmallBatchLoops(getIndex(), analysis.graphs, (g) => analysis.shapes(g)) : [];
      return smallBatchLoops;
    },
  };
  return analysis;
}

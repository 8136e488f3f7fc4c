import type { SyntaxNode } from "./parser.js";
import type { FileAnalysis } from "../../model/analysis.js";
import type { ForwardGraph } from "../../model/graph.js";
import type { ModelClass, ModelIndex } from "../../model/index-types.js";
import { buildForwardGraph } from "./forward-graph.js";
import { propagateShapes, type GraphShapes } from "../../passes/shapes.js";

function countAttributeReads(root: SyntaxNode): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (name: string): void => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  for (const node of root.descendantsOfType(["attribute", "string_content"])) {
    if (!node) continue;
    if (node.type === "string_content") {
      if (/^[A-Za-z_]\w*$/.test(node.text)) bump(node.text);
      continue;
    }
    const parent = node.parent;
    const isStore = parent?.type === "assignment" && parent.childForFieldName("left")?.id === node.id;
    if (isStore) continue;
    const attr = node.childForFieldName("attribute");
    if (attr) bump(attr.text);
  }
  return counts;
}

/** Classes named inside another model class's body are its submodules (or may be): they are not top level. */
function topLevelModels(index: ModelIndex): Set<ModelClass> {
  const models = index.classes.filter((c) => c.isModel);
  const referenced = new Set<string>();
  for (const cls of models) {
    const body = cls.node.childForFieldName("body");
    for (const id of body?.descendantsOfType("identifier") ?? []) if (id && id.text !== cls.name) referenced.add(id.text);
  }
  return new Set(models.filter((c) => !referenced.has(c.name)));
}

export interface AnalysisOptions {
  /** Input shape per model class name; `*` applies to every top-level model (`LintOptions.inputShapes`). */
  inputShapes?: Record<string, number[]>;
}

export function analyzePython(index: ModelIndex, options: AnalysisOptions = {}): FileAnalysis {
  const graphs: ForwardGraph[] = [];
  for (const cls of index.classes) {
    if (!cls.isModel) continue;
    const g = buildForwardGraph(index, cls);
    if (g) graphs.push(g);
  }
  let reads: Map<string, number> | undefined;
  const topLevel = topLevelModels(index);
  const shapes = new Map<ForwardGraph, GraphShapes>();
  return {
    graphs,
    topLevelModels: topLevel,
    shapes(graph: ForwardGraph): GraphShapes {
      let result = shapes.get(graph);
      if (!result) {
        const name = graph.modelClass.name;
        const key = options.inputShapes?.[name] ? name : topLevel.has(graph.modelClass) && options.inputShapes?.["*"] ? "*" : undefined;
        const inputShape = key ? options.inputShapes![key] : undefined;
        result = propagateShapes(graph, { text: index.text, inputShape, inputShapeText: inputShape && (key === "*" ? inputShape.join(",") : `${name}=${inputShape.join(",")}`) });
        shapes.set(graph, result);
      }
      return result;
    },
    attributeReads(name: string): number {
      reads ??= countAttributeReads(index.tree.rootNode);
      return reads.get(name) ?? 0;
    },
  };
}

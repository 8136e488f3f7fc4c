import type { SyntaxNode } from "./parser.js";
import type { FileAnalysis } from "../../model/analysis.js";
import type { ForwardGraph } from "../../model/graph.js";
import type { ModelClass, ModelIndex } from "../../model/index-types.js";
import { buildForwardGraph } from "./forward-graph.js";
import { FileBudget } from "./interp-support.js";

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

export function analyzePython(index: ModelIndex): FileAnalysis {
  const graphs: ForwardGraph[] = [];
  const budget = new FileBudget();
  for (const cls of index.classes) {
    if (!cls.isModel) continue;
    const g = buildForwardGraph(index, cls, budget);
    if (g) graphs.push(g);
  }
  let reads: Map<string, number> | undefined;
  return {
    graphs,
    topLevelModels: topLevelModels(index),
    attributeReads(name: string): number {
      reads ??= countAttributeReads(index.tree.rootNode);
      return reads.get(name) ?? 0;
    },
  };
}

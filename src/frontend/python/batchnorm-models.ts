import type { ForwardGraph } from "../../model/graph.js";
import { batchNormRuns } from "../../model/queries.js";
import { isBatchNormType } from "../../model/knowledge.js";

/**
 * Names of the file's model classes that contain a BatchNorm: one runs in their forward, one is among the
 * modules their `__init__` creates, or one of those modules is an in-file class that contains one.
 */
export function modelClassesWithBatchNorm(graphs: readonly ForwardGraph[]): Set<string> {
  const byName = new Map(graphs.map((g) => [g.modelClass.name, g]));
  const memo = new Map<string, boolean>();
  const contains = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, false); // a class that contains itself adds nothing
    const g = byName.get(name);
    const yes = g !== undefined && (batchNormRuns(g).size > 0 || g.instances.some((i) => isBatchNormType(i.qualname) || (i.userClass !== undefined && contains(i.userClass.name))));
    memo.set(name, yes);
    return yes;
  };
  return new Set([...byName.keys()].filter(contains));
}

import type { ForwardGraph } from "../../model/graph.js";
import type { ModuleInstance } from "../../model/values.js";
import { batchNormRuns } from "../../model/queries.js";
import { isBatchNormType } from "../../model/knowledge.js";

/**
 * A BatchNorm whose mode matters: it keeps running statistics. With `track_running_stats=False` it normalises
 * with batch statistics in eval mode too; a value bnlint cannot resolve counts as not known to matter.
 */
function tracksRunningStats(inst: ModuleInstance): boolean {
  // Positional place: after num_features, eps, momentum, affine (the Lazy variants have no num_features).
  const arg = inst.kwargs.get("track_running_stats") ?? inst.args[inst.qualname?.includes("Lazy") ? 3 : 4];
  return arg === undefined || (arg.value.k === "bool" && arg.value.b);
}

/**
 * Names of the file's model classes that contain a BatchNorm with running statistics: one runs in their
 * forward, one is among the modules their `__init__` creates, or one of those modules is an in-file class
 * that contains one.
 */
export function modelClassesWithBatchNorm(graphs: readonly ForwardGraph[]): Set<string> {
  const byName = new Map(graphs.map((g) => [g.modelClass.name, g]));
  const memo = new Map<string, boolean>();
  const contains = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, false); // a class that contains itself adds nothing
    const g = byName.get(name);
    const yes = g !== undefined && ([...batchNormRuns(g).keys()].some(tracksRunningStats) || g.instances.some((i) => (isBatchNormType(i.qualname) && tracksRunningStats(i)) || (i.userClass !== undefined && contains(i.userClass.name))));
    memo.set(name, yes);
    return yes;
  };
  return new Set([...byName.keys()].filter(contains));
}

import type { ForwardGraph } from "./graph.js";
import type { ModelClass } from "./index-types.js";
import type { GraphShapes } from "../passes/shapes.js";
import type { ScriptAnalysis } from "./eval-mode.js";
import type { SmallBatchLoop } from "../frontend/python/loaders.js";

/** What the front end derived from one file, shared by every rule. */
export interface FileAnalysis {
  /** One forward graph per model class that has a `forward`, in source order. */
  readonly graphs: readonly ForwardGraph[];
  /** Model classes no other class in the file uses as a submodule. */
  readonly topLevelModels: ReadonlySet<ModelClass>;
  /** How often `name` is read as an attribute (`x.name`, `getattr(x, "name")`) outside `self.name = ...` stores. */
  attributeReads(name: string): number;
  /** Symbolic shapes of a graph's nodes (the shape pass, run on first request; also fills `GraphNode.shape`). */
  shapes(graph: ForwardGraph): GraphShapes;
  /** Train/eval mode in module-level code and functions (computed on first use). */
  scripts(): ScriptAnalysis;
  /** Training loops over DataLoaders that can yield a batch of one sample into a BatchNorm1d (computed on first use). */
  smallBatchLoops(): readonly SmallBatchLoop[];
}

import type { SourceRange } from "./source.js";
import type { ModuleInstance, TensorDims } from "./values.js";
import type { ModelClass, FunctionDef } from "./index-types.js";
import type { Sym } from "./symbolic.js";

export type NodeOp = "input" | "call_module" | "call_function" | "call_method" | "constant" | "output" | "opaque" | "phi";

/** A frame of the inlining stack: the call that entered a helper method or a submodule's forward. */
export interface Frame {
  readonly range: SourceRange;
  readonly description: string;
}

/** Which arm of which if/else a node sits in. Two nodes are exclusive when they differ on some `ifId`. */
export interface BranchTag {
  readonly ifId: number;
  readonly arm: number;
}

export interface LoopTag {
  readonly loopId: number;
  readonly iteration: number;
  /** Iterations of the loop: a number when known, "many" when unknown (then 2 are unrolled). */
  readonly count: number | "many";
  readonly range: SourceRange;
}

/** A tensor shape: dims are symbolic; `undefined` dims are unknown. */
export interface Shape {
  readonly dims: readonly (Sym | undefined)[];
}

export interface GraphNode {
  readonly id: number;
  readonly op: NodeOp;
  /** Module path at the call (`layer1.0.bn1`), function qualname (`torch.cat`) or method name (`view`). */
  readonly target: string;
  /** For call_module: the instance that runs. */
  readonly instance?: ModuleInstance;
  /** Tensor inputs, in argument order (constants and modules are not listed). */
  readonly inputs: readonly number[];
  /** Non-tensor arguments as source text, for shape rules (`-1`, `dim=1`). */
  readonly extra?: NodeExtra;
  /** The call expression (for a child of nn.Sequential, the child's place in the Sequential literal). */
  readonly range: SourceRange;
  /** Range of the callee expression (`self.bn_6` in `self.bn_6(x)`), where fixes rename. */
  readonly calleeRange?: SourceRange;
  readonly callStack: readonly Frame[];
  readonly branches: readonly BranchTag[];
  readonly loops: readonly LoopTag[];
  /** Why the analysis could not follow (opaque nodes). */
  readonly reason?: string;
  /** Filled by passes. */
  shape?: Shape;
}

export interface NodeExtra {
  readonly args: readonly ExtraArg[];
  readonly kwargs: ReadonlyMap<string, ExtraArg>;
}

/** An argument of a call, kept for the shape pass: a tensor input, a number, or something else. */
export type ExtraArg =
  | { readonly kind: "tensor"; readonly node: number }
  | { readonly kind: "num"; readonly sym: Sym }
  | { readonly kind: "tuple"; readonly items: readonly ExtraArg[] }
  | { readonly kind: "other"; readonly text: string }
  /** Sizes read off another tensor at run time (`size=lat.shape[-2:]`): the executor reads them, passes do not. */
  | { readonly kind: "dims"; readonly dims: TensorDims; readonly text: string };

export interface ForwardGraph {
  readonly modelClass: ModelClass;
  /** `forward`, or `__init__` for an nn.Sequential subclass without a forward (it runs its children). */
  readonly forward: FunctionDef;
  readonly nodes: GraphNode[];
  readonly inputs: number[];
  /** Returned values (a tuple return lists each element). */
  readonly outputs: number[];
  /** Every module instance the class owns (created by its `__init__`), including nested ones. */
  readonly instances: ModuleInstance[];
  /** Modules may be reached by name at run time (`getattr(self, ...)`, `self.modules()`): unused is unknowable. */
  dynamicModuleAccess: boolean;
  /** The graph hit an analysis budget and is partial. */
  incomplete: boolean;
  readonly notes: string[];
}

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

/**
 * When an if/else arm runs, as far as it depends only on what the executor knows in a pass: the mode
 * (`self.training`) and the input's sizes (`x.shape[-1] <= 64`, `x.size(1) == 3`).
 */
export type RunCondition =
  | { readonly kind: "training" }
  | { readonly kind: "compare"; readonly op: "==" | "!=" | "<" | ">" | "<=" | ">="; readonly left: RunOperand; readonly right: RunOperand }
  | { readonly kind: "not"; readonly arg: RunCondition }
  | { readonly kind: "and" | "or"; readonly left: RunCondition; readonly right: RunCondition };

/** A size known when the model runs: one size of a tensor, a number, or arithmetic on them (`c // groups`). */
export type SizeExpr =
  | { readonly dims: TensorDims }
  | { readonly num: number }
  | { readonly op: SizeOp; readonly left: SizeExpr; readonly right: SizeExpr }
  /** `int(e)`: truncation toward zero (`int(x.size(1) * 0.5)`). */
  | { readonly int: SizeExpr };

export type SizeOp = "+" | "-" | "*" | "//" | "/" | "%";

/** A side of a run-time comparison. */
export type RunOperand = SizeExpr;

/** An arm's condition (taken when it holds and no earlier arm's did); "else" always holds; undefined: unknown. */
export type ArmCondition = RunCondition | "else" | undefined;

/** An if/else (or `a if c else b`) whose arms were all followed: where it is and each arm's condition. */
export interface BranchConditions {
  readonly line: number;
  readonly arms: readonly ArmCondition[];
  /**
   * For `if self.flag:` / `if not self.flag:` (with or without else) on a flag bnlint cannot decide: which flag
   * (its instance and attribute path) and whether the first arm runs when it is false. Two ifs on one flag with
   * opposite needs never both run their arms: `if self.pre_norm: x = self.norm(x)` … `if not self.pre_norm: …`.
   */
  readonly flag?: { readonly key: string; readonly negated: boolean };
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
  /** For a phi after an if/else: per input, the arms (all of them) under which it is the value. */
  readonly phiTags?: readonly (readonly BranchTag[])[];
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
  /** A slice in a subscript (`x[:, 2:-1]`): its bounds, each absent when not written. */
  | { readonly kind: "slice"; readonly start?: ExtraArg; readonly stop?: ExtraArg; readonly step?: ExtraArg; readonly text: string }
  /** Sizes read off another tensor at run time (`size=lat.shape[-2:]`): the executor reads them, passes do not. */
  | { readonly kind: "dims"; readonly dims: TensorDims; readonly text: string }
  /** Arithmetic on sizes read at run time (`diff // 2`, `c // groups`): for the executor too. */
  | { readonly kind: "size"; readonly expr: SizeExpr; readonly text: string };

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
  /** Containers (nn.Sequential, nn.ModuleList, …) whose children forward runs or iterates. */
  readonly containersRun: ReadonlySet<ModuleInstance>;
  /** Per if/else (by `ifId`) whose arms were both followed: each arm's condition, for the executor. */
  readonly branchConditions: ReadonlyMap<number, BranchConditions>;
  readonly notes: string[];
}

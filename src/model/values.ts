import type { SourceRange } from "./source.js";
import type { Sym } from "./symbolic.js";
import type { ModelClass, FunctionDef } from "./index-types.js";
import type { RunCondition, SizeExpr } from "./graph.js";

/** What a constructor call created: a module instance in the model's tree. */
export interface ModuleInstance {
  readonly id: number;
  /** Canonical class name for library modules (`torch.nn.BatchNorm2d`); undefined when unknown. */
  readonly qualname?: string;
  /** The user class when the module's class is defined in the same file. */
  readonly userClass?: ModelClass;
  /** Constructor arguments, as values and as source text (for messages and fixes). */
  readonly args: readonly ArgInfo[];
  readonly kwargs: ReadonlyMap<string, ArgInfo>;
  /** The constructor call expression. */
  readonly ctorRange: SourceRange;
  /** Source text of the callee as written (`nn.BatchNorm2d`, `norm_layer`). */
  readonly ctorText: string;
  /** The class whose `__init__` (or helper) created it. */
  readonly ownerClass?: ModelClass;
  /** Attribute paths it was registered under, in order (`bn_6`, `layer1.0.bn1`). */
  readonly paths: string[];
  /** The same paths as Python code reaches them (`self.heads["a"][1]`), in the same order. */
  readonly pythonPaths?: string[];
  /** The statement `self.x = ...` that first stored it, when there is one. */
  declStatement?: SourceRange;
  /** For user classes and containers: attributes / children after construction. */
  readonly attrs: Map<string, Value>;
  /** nn.Sequential / nn.ModuleList children in order; nn.ModuleDict children by key. */
  children?: ListItem[];
  childrenExact?: boolean;
  dictChildren?: Map<string, ListItem>;
  /** False when a child may have been added under a key bnlint cannot read (`add_module(name, …)`). */
  dictChildrenExact?: boolean;
  /** Passed to code bnlint cannot see: it may be called there, so no finding is made about it. */
  escaped: boolean;
  /**
   * An in-file subclass of a BatchNorm class (`class MyBN(nn.BatchNorm2d)`, timm's `BatchNormAct2d`): the instance
   * is a BatchNorm of `qualname`'s kind, built from this class. `overrides`: the methods of the base it replaces
   * (`forward`, `__init__`), which bnlint does not follow.
   */
  readonly definedBy?: ModelClass;
  readonly overrides?: readonly string[];
}

/** What a function defined inside another sees of it: its names (read when called, as Python does) and `self`. */
export interface Closure {
  readonly env: ReadonlyMap<string, Value>;
  readonly outer?: Closure;
  readonly self?: Value;
  readonly cls?: ModelClass;
  readonly owner?: ModelClass;
}

export interface ArgInfo {
  readonly value: Value;
  readonly text: string;
  readonly range: SourceRange;
}

export interface ListItem {
  readonly value: Value;
  /** Where the item was written (the element of a list literal, the argument of `append`). */
  readonly range?: SourceRange;
}

/** A mutable Python list as the interpreter sees it. `exact` is false when its length is not known. */
export interface ListBox {
  items: ListItem[];
  exact: boolean;
}

export type Value =
  | { readonly k: "instance"; readonly inst: ModuleInstance }
  | { readonly k: "object"; readonly attrs: Map<string, Value>; readonly cls?: ModelClass }
  /** Something callable that builds a module: a library class, a user class, a `functools.partial`. */
  | { readonly k: "factory"; readonly qualname?: string; readonly userClass?: ModelClass; readonly boundArgs: readonly ArgInfo[]; readonly boundKwargs: ReadonlyMap<string, ArgInfo>; readonly text: string }
  | { readonly k: "function"; readonly def: FunctionDef; readonly self?: Value; readonly cls?: ModelClass; readonly closure?: Closure }
  | { readonly k: "qualname"; readonly name: string }
  | { readonly k: "tensor"; readonly node: number }
  | { readonly k: "num"; readonly sym: Sym }
  | { readonly k: "str"; readonly s: string }
  | { readonly k: "bool"; readonly b: boolean }
  | { readonly k: "none" }
  | { readonly k: "tuple"; readonly items: readonly Value[] }
  | { readonly k: "list"; readonly box: ListBox }
  | { readonly k: "dict"; readonly entries: Map<string, ListItem>; readonly exact: boolean }
  | { readonly k: "range"; readonly start: Sym; readonly stop: Sym; readonly step: Sym }
  /** A method looked up on a value the interpreter models itself: `layers.append`, `x.view`, `self.bns.items`. */
  | { readonly k: "method"; readonly recv: Value; readonly name: string }
  /** `super()` inside a method of `cls`, bound to `self`. */
  | { readonly k: "super"; readonly self: Value; readonly cls: ModelClass }
  /** Unknown; `sym` is the symbol it stands for when used as a number (an `__init__` parameter). */
  /** `dims`: a value read off a tensor's shape (`x.size(2)`, `x.shape[-2:]`), known only when the model runs. */
  /** `cond`: a truth value known only when the model runs (`self.training`, `x.size(1) == 3`). */
  /** `size`: arithmetic on such sizes (`x.size(2) - skip.size(2)`), also known only when the model runs. */
  | { readonly k: "unknown"; readonly sym?: Sym; readonly why?: string; readonly dims?: TensorDims; readonly cond?: RunCondition; readonly size?: SizeExpr };

/** Dimensions of a tensor node: one (`index`) or a slice (`start`, `end`, as Python's, negative from the end). */
export interface TensorDims {
  readonly node: number;
  readonly index?: number;
  readonly start?: number;
  readonly end?: number;
}

export const UNKNOWN: Value = { k: "unknown" };
/** An attribute set in only some arms of an if/else whose condition is not known: it may not exist at all. */
export const MAYBE_UNSET: Value = { k: "unknown", why: "set in only some branches" };
export const NONE: Value = { k: "none" };

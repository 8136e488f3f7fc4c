import type { SyntaxNode } from "./parser.js";
import { rangeOf, type SourceRange } from "../../model/source.js";
import type { FunctionDef, ModelClass, ModelIndex } from "../../model/index-types.js";
import { findMethod } from "../../model/index-types.js";
import type { ArgInfo, Closure, ListBox, ListItem, ModuleInstance, Value } from "../../model/values.js";
import { MAYBE_UNSET, NONE, UNKNOWN } from "../../model/values.js";
import type { ArmCondition, BranchConditions, BranchTag, ExtraArg, Frame, GraphNode, LoopTag, NodeOp, RunCondition, SizeExpr, SizeOp } from "../../model/graph.js";
import {
  constValue, symAdd, symAtom, symAtoms, symConst, symFloorDiv, symMul, symNeg, symSub, symToString, symTrueDiv, type Sym,
} from "../../model/symbolic.js";
import { canonicalName, isBatchNormType, NN_MODULE_ATTRIBUTES } from "../../model/knowledge.js";
import { readFunction } from "./indexer.js";
import {
  BudgetExceeded, FileBudget, LIMITS, checkListSize, closureValue, escapeValue, isRunTimeSize, iterationAtom, listItems, numOf, sizeExprOf, tensorsIn, truthiness, valueKey,
} from "./interp-support.js";

/** Tensor methods that, given `dim`, return a (values, indices) pair. */
const VALUES_INDICES_METHODS = new Set(["max", "min", "median", "mode"]);
const VALUES_INDICES_FUNCTIONS = new Set(["torch.max", "torch.min", "torch.median", "torch.mode"]);
import { callValue, registerContainerChild, type CallArgs } from "./calls.js";

/** Where the interpreter is: the frame of one Python function being run abstractly. */
export interface Scope {
  readonly env: Map<string, Value>;
  /** `self` of the running method, when it is a method of a model class. */
  readonly self?: Value;
  /** The class the running method belongs to (for `super()`). */
  readonly cls?: ModelClass;
  /** The class whose construction created modules now (their owner). */
  readonly owner?: ModelClass;
  readonly returns: { value: Value; branches: readonly BranchTag[] }[];
  readonly def?: FunctionDef;
  /** For a function defined inside another: the names it reads from there. */
  readonly outer?: Closure;
}

/** Mutable position in the forward pass: the inlining stack, branch and loop tags. */
export interface Position {
  callStack: Frame[];
  branches: BranchTag[];
  loops: LoopTag[];
  depth: number;
}

type Flow = "next" | "return" | "break" | "continue";

/**
 * An abstract interpreter for the Python subset model code is written in. In `init` mode it builds module
 * instances (what `__init__` creates and stores); in `forward` mode it records a graph of tensor operations.
 * Whatever it cannot follow becomes an unknown value or an opaque node, never a guess.
 */
/** The arguments of a property read: none. */
const NO_CALL_ARGS: CallArgs = { positional: [], keywords: new Map(), spread: false };

export class Interpreter {
  readonly nodes: GraphNode[] = [];
  readonly notes: string[] = [];
  dynamicModuleAccess = false;
  incomplete = false;
  recording = false;
  pos: Position = { callStack: [], branches: [], loops: [], depth: 0 };
  private steps = 0;
  private nesting = 0;
  private nextIfId = 1;
  private nextLoopId = 1;
  private nextInstanceId = 1;
  private readonly globalCache = new Map<string, Value>();
  private readonly activeFunctions: FunctionDef[] = [];
  readonly createdInstances: ModuleInstance[] = [];
  /** Conditions of the if/else statements whose arms were all followed, by ifId (see ForwardGraph). */
  readonly branchConditions = new Map<number, BranchConditions>();
  /** The if/else (or conditional expression) of each ifId recorded in forward: where returns diverge. */
  private readonly ifNodes = new Map<number, SyntaxNode>();
  /** Containers whose children forward ran or iterated (the executor needs them complete). */
  readonly containersRun = new Set<ModuleInstance>();

  constructor(readonly index: ModelIndex, private readonly fileBudget = new FileBudget()) {}

  // ───────────────────────────── budget ─────────────────────────────

  step(): void {
    if (++this.steps > LIMITS.steps) throw new BudgetExceeded(`more than ${LIMITS.steps} evaluation steps`);
    this.fileBudget.spend();
  }

  /**
   * Enters one nested evaluation (the caller decrements `nesting` in a `finally`); deeper than LIMITS.nesting
   * gives up instead of overflowing the stack. No closure: this runs for every expression.
   */
  private enter(): void {
    if (this.nesting >= LIMITS.nesting) throw new BudgetExceeded(`code nested more than ${LIMITS.nesting} levels deep`);
    this.nesting++;
  }

  // ───────────────────────────── instances ─────────────────────────────

  newInstance(init: Omit<ModuleInstance, "id" | "paths" | "attrs" | "escaped"> & { attrs?: Map<string, Value> }): ModuleInstance {
    // Every field written out, in one order: one object shape for all instances (a spread of the callers'
    // differently shaped `init` objects was 5% of building a large graph).
    const inst: ModuleInstance = {
      id: this.nextInstanceId++,
      qualname: init.qualname,
      userClass: init.userClass,
      args: init.args,
      kwargs: init.kwargs,
      ctorRange: init.ctorRange,
      ctorText: init.ctorText,
      ownerClass: init.ownerClass,
      paths: [],
      pythonPaths: [],
      declStatement: init.declStatement,
      attrs: init.attrs ?? new Map(),
      children: init.children,
      childrenExact: init.childrenExact,
      dictChildren: init.dictChildren,
      dictChildrenExact: init.dictChildrenExact,
      escaped: false,
      definedBy: init.definedBy,
      overrides: init.overrides,
    };
    this.createdInstances.push(inst);
    return inst;
  }

  // ───────────────────────────── graph nodes ─────────────────────────────

  addNode(op: NodeOp, target: string, inputs: number[], range: SourceRange, more: Partial<GraphNode> = {}): number {
    if (this.nodes.length >= LIMITS.nodes) throw new BudgetExceeded(`more than ${LIMITS.nodes} graph nodes`);
    // Every field written out, in one order, so all nodes share one object shape (see newInstance).
    const node: GraphNode = {
      id: this.nodes.length,
      op,
      target,
      instance: more.instance,
      inputs,
      extra: more.extra,
      range,
      calleeRange: more.calleeRange,
      // Position arrays are never mutated in place (a change makes a new array), so nodes can share them.
      callStack: this.pos.callStack,
      branches: this.pos.branches,
      loops: this.pos.loops,
      reason: more.reason,
      phiTags: more.phiTags,
      shape: more.shape,
    };
    this.nodes.push(node);
    return node.id;
  }

  /** A tensor produced by something bnlint cannot follow; module arguments escape. */
  opaque(reason: string, node: SyntaxNode, args: Value[]): Value {
    for (const a of args) escapeValue(a);
    if (!this.recording) return UNKNOWN;
    const inputs = args.flatMap((a) => tensorsIn(a));
    const id = this.addNode("opaque", reason, inputs, rangeOf(node), { reason });
    return { k: "tensor", node: id };
  }

  /** `start:stop:step` of a tensor subscript, each bound evaluated (absent when not written). */
  private sliceArg(slice: SyntaxNode, scope: Scope): ExtraArg {
    const parts: (ExtraArg | undefined)[] = [undefined, undefined, undefined];
    let at = 0;
    for (const c of slice.children) {
      if (c.type === ":") at++;
      else if (c.isNamed && c.type !== "comment" && at < 3) parts[at] = this.extraArgOf(this.evalExpr(c, scope), c.text);
    }
    return { kind: "slice", start: parts[0], stop: parts[1], step: parts[2], text: slice.text };
  }

  extraArgOf(v: Value, text: string, depth = 0): ExtraArg {
    if (v.k === "tensor") return { kind: "tensor", node: v.node };
    if (v.k === "unknown" && v.dims) return { kind: "dims", dims: v.dims, text };
    if (v.k === "unknown" && v.size) return { kind: "size", expr: v.size, text };
    const sym = numOf(v);
    if (sym && v.k !== "bool") return { kind: "num", sym };
    if (v.k === "tuple" && depth < 3) return { kind: "tuple", items: v.items.map((i) => this.extraArgOf(i, "", depth + 1)) };
    if (v.k === "list" && v.box.exact && depth < 3) {
      return { kind: "tuple", items: v.box.items.map((i) => this.extraArgOf(i.value, "", depth + 1)) };
    }
    return { kind: "other", text };
  }

  // ───────────────────────────── names ─────────────────────────────

  lookupName(name: string, scope: Scope): Value {
    const local = scope.env.get(name);
    if (local !== undefined) return local;
    return closureValue(scope.outer, name) ?? this.globalValue(name);
  }

  globalValue(name: string): Value {
    const cached = this.globalCache.get(name);
    if (cached) return cached;
    let v: Value = UNKNOWN;
    const cls = this.index.classByName.get(name);
    const fn = this.index.functions.get(name);
    const assigned = this.index.globals.get(name);
    if (cls) v = { k: "factory", userClass: cls, boundArgs: [], boundKwargs: new Map(), text: name };
    else if (fn) v = { k: "function", def: fn };
    else if (assigned) {
      this.globalCache.set(name, UNKNOWN); // guards `A = A + 1` style self-reference
      v = this.evalExpr(assigned, { env: new Map(), returns: [] });
    } else {
      const q = this.index.imports.lookup(name);
      if (q !== undefined) v = { k: "qualname", name: q };
      else if (BUILTINS.has(name)) v = { k: "qualname", name: `builtins.${name}` };
    }
    this.globalCache.set(name, v);
    return v;
  }

  // ───────────────────────────── functions ─────────────────────────────

  /** Binds call arguments to a function's parameters. */
  bindParams(def: FunctionDef, selfValue: Value | undefined, args: CallArgs): Map<string, Value> {
    const env = new Map<string, Value>();
    const params = [...def.params];
    let positional = [...args.positional];
    if (selfValue !== undefined && !def.isStatic && params.length > 0 && params[0].kind === "positional") {
      env.set(params[0].name, selfValue);
      params.shift();
    }
    const unresolvedSpread = args.spread;
    for (const p of params) {
      if (p.kind === "star") {
        env.set(p.name, { k: "tuple", items: positional.map((a) => a.value) });
        positional = [];
        continue;
      }
      if (p.kind === "kwstar") {
        // `**kwargs`: the keywords no other parameter takes (inexact when the call spread something unknown).
        const named = new Set(params.filter((q) => q.kind === "positional" || q.kind === "keyword").map((q) => q.name));
        const entries = new Map([...args.keywords].filter(([k]) => !named.has(k)).map(([k, a]) => [k, { value: a.value, range: a.range }] as const));
        env.set(p.name, { k: "dict", entries, exact: !args.spread });
        continue;
      }
      if (p.kind === "positional" && positional.length > 0) {
        env.set(p.name, positional.shift()!.value);
        continue;
      }
      const kw = args.keywords.get(p.name);
      if (kw) {
        env.set(p.name, kw.value);
        continue;
      }
      if (unresolvedSpread) {
        env.set(p.name, UNKNOWN);
        continue;
      }
      if (p.defaultNode) env.set(p.name, this.evalExpr(p.defaultNode, { env: new Map(), returns: [] }));
      else env.set(p.name, UNKNOWN);
    }
    return env;
  }

  /** Runs a Python function abstractly and returns what it returns (a phi of several returns). */
  callFunction(def: FunctionDef, selfValue: Value | undefined, args: CallArgs, opts: { cls?: ModelClass; owner?: ModelClass; frame?: Frame; paramSymbols?: boolean; closure?: Closure }): Value {
    if (this.activeFunctions.includes(def) || this.pos.depth >= LIMITS.inlineDepth) {
      if (this.pos.depth >= LIMITS.inlineDepth) this.notes.push(`inlining stopped at depth ${LIMITS.inlineDepth} in ${def.name}`);
      else this.notes.push(`a recursive call of \`${def.name}\` (line ${def.node.startPosition.row + 1}), which bnlint does not follow`);
      for (const a of args.positional) escapeValue(a.value);
      for (const a of args.keywords.values()) escapeValue(a.value);
      this.incomplete = true;
      return UNKNOWN;
    }
    const env = this.bindParams(def, selfValue, args);
    if (opts.paramSymbols) {
      for (const p of def.params) {
        const v = env.get(p.name);
        if (v && v.k === "unknown" && v.sym === undefined) env.set(p.name, { k: "unknown", sym: symAtom(p.name), why: "parameter" });
        // Analysed on its own, the class may be given any keywords: `**kwargs` is not known to be empty.
        if (p.kind === "kwstar") env.set(p.name, { k: "dict", entries: new Map(), exact: false });
      }
    }
    const closure = opts.closure;
    const scope: Scope = closure
      ? { env, self: closure.self, cls: closure.cls, owner: closure.owner, returns: [], def, outer: closure }
      : { env, self: selfValue, cls: opts.cls, owner: opts.owner, returns: [], def };
    const saved = this.pos;
    // Literal objects of one shape, not spreads: this runs once per inlined call.
    this.pos = { callStack: opts.frame ? [...saved.callStack, opts.frame] : saved.callStack, branches: saved.branches, loops: saved.loops, depth: saved.depth + 1 };
    this.activeFunctions.push(def);
    try {
      this.execBlock(def.body, scope);
    } finally {
      this.activeFunctions.pop();
      this.pos = { callStack: saved.callStack, branches: saved.branches, loops: saved.loops, depth: saved.depth };
    }
    return this.mergeReturns(scope.returns, def.node);
  }

  private mergeReturns(returns: Scope["returns"], node: SyntaxNode): Value {
    if (returns.length === 0) return NONE;
    if (returns.length === 1) return returns[0].value;
    // The merged value stands at the if/else whose arms return differently (messages point there), not at `def`.
    return this.merge(returns.map((r) => r.value), this.divergingIf(returns) ?? node, returns.map((r) => r.branches));
  }

  private divergingIf(returns: Scope["returns"]): SyntaxNode | undefined {
    for (let k = 0; ; k++) {
      const tags = returns.map((r) => r.branches[k]);
      const first = tags.find((t) => t !== undefined);
      if (!first) return undefined;
      if (tags.some((t) => t?.ifId !== first.ifId || t.arm !== first.arm)) return this.ifNodes.get(first.ifId);
    }
  }

  /**
   * Merges the values a name has after exclusive branches: equal stays, tensors become a phi node. `tags`, per
   * value, are the arms under which it is the one (so the executor can pick it once it knows the arms).
   */
  merge(values: Value[], node: SyntaxNode, tags?: (readonly BranchTag[])[]): Value {
    // One list in every arm: its contents were reconciled after the arms (execArms).
    if (values[0].k === "list" && values.every((v) => v === values[0])) return values[0];
    // An unknown no arm rebound keeps what is known of it: a parameter's symbol (`c` in `Conv2d(c, c, 3)`) must
    // survive an unrelated if/else. (Not containers: both arms mutate the one list, so it may be wrong in each.)
    if (values[0].k === "unknown" && values.every((v) => v === values[0])) return values[0];
    const keys = values.map(valueKey);
    if (keys[0] !== undefined && keys.every((k) => k === keys[0])) return values[0];
    const batchNorm = oneBatchNormOfArms(values);
    if (batchNorm) return batchNorm;
    if (values.every((v) => v.k === "tensor")) {
      if (!this.recording) return UNKNOWN;
      const inputs = values.map((v) => (v as { node: number }).node);
      return { k: "tensor", node: this.addNode("phi", "phi", inputs, rangeOf(node), tags ? { phiTags: tags } : {}) };
    }
    const tuples = values.filter((v): v is Extract<Value, { k: "tuple" }> => v.k === "tuple");
    if (tuples.length === values.length && tuples.every((t) => t.items.length === tuples[0].items.length)) {
      return { k: "tuple", items: tuples[0].items.map((_, i) => this.merge(tuples.map((t) => t.items[i]), node, tags)) };
    }
    // Modules that could be one or the other are no longer tracked: they may be called through this name.
    for (const v of values) escapeValue(v);
    const tensors = values.filter((v) => v.k === "tensor");
    if (tensors.length > 0 && this.recording) {
      return { k: "tensor", node: this.addNode("phi", "phi", tensors.map((t) => (t as { node: number }).node), rangeOf(node)) };
    }
    return UNKNOWN;
  }

  // ───────────────────────────── statements ─────────────────────────────

  execBlock(block: SyntaxNode, scope: Scope): Flow {
    for (const stmt of block.namedChildren) {
      if (!stmt) continue;
      const flow = this.execStatement(stmt, scope);
      if (flow !== "next") return flow;
    }
    return "next";
  }

  execStatement(stmt: SyntaxNode, scope: Scope): Flow {
    this.step();
    this.enter();
    try {
      return this.execStatementAt(stmt, scope);
    } finally {
      this.nesting--;
    }
  }

  private execStatementAt(stmt: SyntaxNode, scope: Scope): Flow {
    switch (stmt.type) {
      case "expression_statement":
        for (const child of stmt.namedChildren) if (child) this.execExpressionStatement(child, scope);
        return "next";
      case "return_statement": {
        const expr = stmt.namedChildren.find((c) => c && c.type !== "comment");
        const value = expr ? this.evalExpr(expr, scope) : NONE;
        scope.returns.push({ value, branches: [...this.pos.branches] });
        return "return";
      }
      case "if_statement":
        return this.execIf(stmt, scope);
      case "for_statement":
        return this.execFor(stmt, scope);
      case "while_statement":
        return this.execWhile(stmt, scope);
      case "with_statement": {
        for (const item of stmt.descendantsOfType("with_item")) {
          const value = item?.childForFieldName("value");
          if (!value) continue;
          if (value.type === "as_pattern") {
            const inner = value.namedChildren[0];
            const target = value.childForFieldName("alias") ?? value.namedChildren[1];
            const v = inner ? this.evalExpr(inner, scope) : UNKNOWN;
            if (target) this.assignTarget(target.type === "as_pattern_target" ? target.namedChildren[0] ?? target : target, UNKNOWN, scope, v);
          } else this.evalExpr(value, scope);
        }
        const body = stmt.childForFieldName("body");
        return body ? this.execBlock(body, scope) : "next";
      }
      case "try_statement": {
        const body = stmt.childForFieldName("body");
        const flow = body ? this.execBlock(body, scope) : "next";
        for (const part of stmt.namedChildren) {
          if (part?.type === "finally_clause") {
            const b = part.namedChildren.find((c) => c?.type === "block");
            if (b) this.execBlock(b, scope);
          }
        }
        return flow;
      }
      case "raise_statement":
        return "return";
      case "break_statement":
        return "break";
      case "continue_statement":
        return "continue";
      case "function_definition": {
        const name = stmt.childForFieldName("name");
        const body = stmt.childForFieldName("body");
        const params = stmt.childForFieldName("parameters");
        const def = readFunction(stmt);
        if (name && def) {
          // A nested function closes over this scope and runs inline when called; handed to unknown code,
          // the modules it names escape with it.
          const closure: Closure = { env: scope.env, outer: scope.outer, self: scope.self, cls: scope.cls, owner: scope.owner };
          scope.env.set(name.text, { k: "function", def, closure });
        } else if (name && body && params) {
          scope.env.set(name.text, { k: "unknown", why: "nested function" });
          this.scanForEscapes(body, scope);
        }
        return "next";
      }
      case "decorated_definition": {
        const def = stmt.childForFieldName("definition");
        return def ? this.execStatement(def, scope) : "next";
      }
      case "delete_statement":
      case "pass_statement":
      case "comment":
      case "global_statement":
      case "nonlocal_statement":
      case "import_statement":
      case "import_from_statement":
      case "future_import_statement":
      case "class_definition":
      case "assert_statement":
        return "next";
      case "ERROR":
        this.incomplete = true;
        this.notes.push(`syntax error at line ${stmt.startPosition.row + 1}`);
        return "next";
      default:
        // match statements, exec, print (Python 2) and anything else: evaluate nothing, trust nothing.
        this.scanForEscapes(stmt, scope);
        return "next";
    }
  }

  /** Code bnlint does not run (a nested function, a lambda) may call any module it names. */
  scanForEscapes(node: SyntaxNode, scope: Scope): void {
    for (const attr of node.descendantsOfType(["attribute", "identifier"])) {
      if (!attr) continue;
      if (attr.type === "identifier") {
        const v = scope.env.get(attr.text);
        if (v && v.k !== "tensor") escapeValue(v);
        if (v && v.k === "instance" && v === scope.self) this.dynamicModuleAccess = true;
        continue;
      }
      const obj = attr.childForFieldName("object");
      const name = attr.childForFieldName("attribute");
      if (obj?.type === "identifier" && name && scope.self && obj.text === "self") {
        const v = this.getAttribute(scope.self, name.text, scope);
        escapeValue(v);
      }
    }
  }

  private execExpressionStatement(expr: SyntaxNode, scope: Scope): void {
    if (expr.type === "assignment") {
      this.execAssignment(expr, scope);
      return;
    }
    if (expr.type === "augmented_assignment") {
      this.execAugmented(expr, scope);
      return;
    }
    this.evalExpr(expr, scope);
  }

  private execAssignment(node: SyntaxNode, scope: Scope): Value {
    const left = node.childForFieldName("left");
    const right = node.childForFieldName("right");
    if (!right) return UNKNOWN;
    let value = right.type === "assignment" ? this.execAssignment(right, scope) : this.evalExpr(right, scope);
    // `batchsize = x.size()[0]`: a use of the name is no longer recognisable as the batch size by its text, so the
    // name holds the size itself (the executor reads it off `x` in each pass).
    if (left?.type === "identifier" && value === UNKNOWN && this.recording) value = this.batchSizeOf(right, scope) ?? value;
    if (left) this.assignTarget(left, value, scope, value, node.parent ?? node);
    return value;
  }

  /** `x.size(0)`, `x.size()[0]`, `x.shape[0]` of a tensor `x`, as a run-time size; undefined for anything else. */
  private batchSizeOf(expr: SyntaxNode, scope: Scope): Value | undefined {
    const m = /^([A-Za-z_]\w*)\s*\.\s*(?:size\(\s*0\s*\)|size\(\s*\)\s*\[\s*0\s*\]|shape\s*\[\s*0\s*\])$/.exec(expr.text);
    const base = m ? scope.env.get(m[1]) : undefined;
    return base?.k === "tensor" ? { k: "unknown", why: "size", size: { dims: { node: base.node, index: 0 } } } : undefined;
  }

  private execAugmented(node: SyntaxNode, scope: Scope): void {
    const left = node.childForFieldName("left");
    const right = node.childForFieldName("right");
    const op = node.childForFieldName("operator")?.type ?? "+=";
    if (!left || !right) return;
    const current = this.evalExpr(left, scope);
    const rhs = this.evalExpr(right, scope);
    if (op === "+=" && current.k === "list") {
      const extra = listItems(rhs);
      if (extra) {
        const itemNodes = right.type === "list" ? right.namedChildren.filter((c) => c && c.type !== "comment") : [];
        checkListSize(current.box.items.length + extra.items.length);
        current.box.items.push(...extra.items.map((it, i) => ({ value: it.value, range: it.range ?? (itemNodes[i] ? rangeOf(itemNodes[i]!) : undefined) })));
        if (!extra.exact) current.box.exact = false;
      } else {
        escapeValue(rhs);
        current.box.exact = false;
      }
      return;
    }
    const result = this.binary(op.slice(0, -1), current, rhs, node);
    this.assignTarget(left, result, scope, result, node.parent ?? node);
  }

  /** Assigns `value` to a target expression (name, `self.x`, subscript, tuple pattern). */
  assignTarget(target: SyntaxNode, value: Value, scope: Scope, _raw?: Value, statement?: SyntaxNode): void {
    switch (target.type) {
      case "identifier":
        scope.env.set(target.text, value);
        return;
      case "attribute": {
        const obj = target.childForFieldName("object");
        const attr = target.childForFieldName("attribute");
        if (!obj || !attr) return;
        const base = this.evalExpr(obj, scope);
        if (base.k === "instance") {
          registerContainerChild(base.inst, attr.text, value, rangeOf(target));
          base.inst.attrs.set(attr.text, value);
          if (value.k === "instance" && !value.inst.declStatement && statement) value.inst.declStatement = rangeOf(statement);
        } else escapeValue(value);
        return;
      }
      case "subscript": {
        const obj = target.childForFieldName("value");
        const sub = target.childForFieldName("subscript");
        const base = obj ? this.evalExpr(obj, scope) : UNKNOWN;
        const key = sub ? this.evalExpr(sub, scope) : UNKNOWN;
        if (base.k === "dict" && key.k === "str") base.entries.set(key.s, { value, range: rangeOf(target) });
        else if (base.k === "instance" && base.inst.dictChildren && key.k === "str") base.inst.dictChildren.set(key.s, { value, range: rangeOf(target) });
        else if (base.k === "list" && base.box.exact && key.k === "num" && this.storeListItem(base.box, constValue(key.sym), value, target)) return;
        else escapeValue(value);
        return;
      }
      case "pattern_list":
      case "tuple_pattern":
      case "list_pattern":
      case "expression_list":
      case "tuple":
      case "list":
      case "parenthesized_expression": {
        const targets = target.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== "comment");
        if (target.type === "parenthesized_expression" && targets.length === 1) {
          this.assignTarget(targets[0], value, scope, value, statement);
          return;
        }
        const items = this.unpack(value, targets.length, target);
        targets.forEach((t, i) => this.assignTarget(t.type === "list_splat_pattern" ? t.namedChildren[0] ?? t : t, items[i], scope, items[i], statement));
        return;
      }
      default:
        escapeValue(value);
        return;
    }
  }

  /**
   * `feats[0] = self.conv1(x)` on a list of known length: the item is replaced, as Python does. False (and
   * nothing changed) for an index bnlint does not know or that is out of range.
   */
  private storeListItem(box: ListBox, index: number | undefined, value: Value, target: SyntaxNode): boolean {
    if (index === undefined || !Number.isInteger(index)) return false;
    const at = index < 0 ? box.items.length + index : index;
    if (at < 0 || at >= box.items.length) return false;
    box.items[at] = { value, range: rangeOf(target) };
    return true;
  }

  /** Splits a value into `n` parts for tuple assignment. */
  unpack(value: Value, n: number, node: SyntaxNode): Value[] {
    const list = listItems(value);
    if (list && list.exact && list.items.length === n) return list.items.map((i) => i.value);
    // `n, c, h, w = x.size()`, `h, w = x.shape[-2:]`: each a size known when the model runs.
    const dims = value.k === "method" && value.name === "shape" && value.recv.k === "tensor" ? { node: value.recv.node, start: 0 } : value.k === "unknown" && value.dims?.end === undefined ? value.dims : undefined;
    if (dims?.start !== undefined && (dims.start >= 0 || dims.start + n === 0)) {
      const start = dims.start;
      return Array.from({ length: n }, (_, i) => ({ k: "unknown" as const, why: "shape", dims: { node: dims.node, index: start + i } }));
    }
    // `v, i = torch.max(x, 2)`: the values, and indices the graph does not compute.
    if (value.k === "tensor" && this.recording && n === 2 && this.returnsValuesIndices(value.node)) {
      return [value, { k: "unknown", why: "the indices of a (values, indices) pair" }];
    }
    if (value.k === "tensor" && this.recording) {
      return Array.from({ length: n }, (_, i) => ({ k: "tensor" as const, node: this.addNode("call_function", "operator.getitem", [value.node], rangeOf(node), { extra: { args: [{ kind: "tensor", node: value.node }, { kind: "num", sym: symConst(i) }], kwargs: new Map() } }) }));
    }
    escapeValue(value);
    return Array.from({ length: n }, () => UNKNOWN);
  }

  private execIf(stmt: SyntaxNode, scope: Scope): Flow {
    // Flatten if / elif / else into arms of (condition, body).
    const arms: { cond?: SyntaxNode; body: SyntaxNode }[] = [];
    const cond = stmt.childForFieldName("condition");
    const cons = stmt.childForFieldName("consequence");
    if (cons) arms.push({ cond: cond ?? undefined, body: cons });
    let hasElse = false;
    for (const alt of stmt.childrenForFieldName("alternative")) {
      if (!alt) continue;
      if (alt.type === "elif_clause") {
        const c = alt.childForFieldName("condition");
        const b = alt.childForFieldName("consequence");
        if (b) arms.push({ cond: c ?? undefined, body: b });
      } else if (alt.type === "else_clause") {
        const b = alt.childForFieldName("body");
        if (b) arms.push({ body: b });
        hasElse = true;
      }
    }
    // Decide arms whose conditions are known.
    const live: { body?: SyntaxNode; when: ArmCondition }[] = [];
    let decided = false;
    for (const arm of arms) {
      if (!arm.cond) {
        live.push({ body: arm.body, when: "else" });
        decided = true;
        break;
      }
      const v = this.evalExpr(arm.cond, scope);
      const t = truthiness(v);
      if (t === true) {
        live.push({ body: arm.body, when: "else" });
        decided = true;
        break;
      }
      if (t === false) continue;
      live.push({ body: arm.body, when: runCondition(v) });
    }
    if (!decided && !hasElse) live.push({ when: "else" }); // the implicit "no arm taken"
    if (live.length === 1) return live[0].body ? this.execBlock(live[0].body, scope) : "next";
    if (live.length === 0) return "next";
    const flag = live.length === 2 && live[1].when === "else" && arms[0]?.cond && live[0].body === arms[0].body ? this.flagOf(arms[0].cond, scope) : undefined;
    return this.execArms(live, scope, stmt, flag);
  }

  /** `self.flag`, `not self.cfg.flag`: the flag as a key of its instance and path, for `BranchConditions.flag`. */
  private flagOf(cond: SyntaxNode, scope: Scope): { key: string; negated: boolean } | undefined {
    let node: SyntaxNode | null = cond;
    let negated = false;
    for (let depth = 0; node && depth < 8; depth++) {
      if (node.type === "parenthesized_expression" && node.namedChildCount === 1) node = node.namedChildren[0];
      else if (node.type === "not_operator") {
        negated = !negated;
        node = node.childForFieldName("argument");
      } else break;
    }
    if (!node || node.type !== "attribute" || scope.self?.k !== "instance") return undefined;
    const path = node.text.split(".");
    if (path[0] !== "self" || path.length < 2 || !path.every((p) => /^[A-Za-z_]\w*$/.test(p))) return undefined;
    return { key: `${scope.self.inst.id}.${path.slice(1).join(".")}`, negated };
  }

  /** Runs exclusive arms from the same starting state, then merges names and attributes. */
  execArms(arms: { body?: SyntaxNode; run?: (scope: Scope) => Value; when?: ArmCondition }[], scope: Scope, node: SyntaxNode, flag?: { key: string; negated: boolean }): Flow {
    const ifId = this.nextIfId++;
    if (this.recording) {
      this.branchConditions.set(ifId, { line: rangeOf(node).start.line, arms: arms.map((a) => a.when), ...(flag ? { flag } : {}) });
      this.ifNodes.set(ifId, node);
    }
    const startEnv = new Map(scope.env);
    const selfAttrs = scope.self?.k === "instance" ? scope.self.inst.attrs : undefined;
    const startAttrs = selfAttrs ? new Map(selfAttrs) : undefined;
    // Lists the names hold are mutated in place (`layers += [nn.Dropout(p)]`): each arm starts from their
    // contents before the if, and what the arms leave is reconciled after it (`reconcileLists`).
    const lists = [...new Set([...startEnv.values()].filter((v): v is Extract<Value, { k: "list" }> => v.k === "list").map((v) => v.box))];
    const listStart = lists.map((box) => ({ items: [...box.items], exact: box.exact }));
    const listEnds: { items: ListItem[]; exact: boolean }[][] = [];
    const outcomes: { env: Map<string, Value>; attrs?: Map<string, Value>; flow: Flow; arm: number }[] = [];
    const savedBranches = this.pos.branches;
    arms.forEach((arm, i) => {
      scope.env.clear();
      for (const [k, v] of startEnv) scope.env.set(k, v);
      if (selfAttrs && startAttrs) {
        selfAttrs.clear();
        for (const [k, v] of startAttrs) selfAttrs.set(k, v);
      }
      lists.forEach((box, j) => {
        box.items = [...listStart[j].items];
        box.exact = listStart[j].exact;
      });
      this.pos.branches = [...savedBranches, { ifId, arm: i }];
      const flow = arm.body ? this.execBlock(arm.body, scope) : "next";
      outcomes.push({ env: new Map(scope.env), attrs: selfAttrs ? new Map(selfAttrs) : undefined, flow, arm: i });
      listEnds.push(lists.map((box) => ({ items: [...box.items], exact: box.exact })));
    });
    this.pos.branches = savedBranches;
    const continuing = outcomes.filter((o) => o.flow === "next");
    reconcileLists(lists, continuing.map((o) => listEnds[o.arm]), listStart);
    if (continuing.length === 0) {
      // Every arm left the block; the code after it is unreachable from here.
      return outcomes.every((o) => o.flow === "return") ? "return" : outcomes[0].flow;
    }
    // Code after the if runs in the arms that fell through: when only one did, it inherits that arm's tag.
    if (continuing.length === 1 && outcomes.length > 1) this.pos.branches = [...savedBranches, { ifId, arm: continuing[0].arm }];
    const names = new Set(continuing.flatMap((o) => [...o.env.keys()]));
    const tags = continuing.map((o) => [...savedBranches, { ifId, arm: o.arm }]);
    scope.env.clear();
    for (const name of names) {
      const vals = continuing.map((o) => o.env.get(name) ?? UNKNOWN);
      scope.env.set(name, this.merge(vals, node, tags));
    }
    if (selfAttrs) {
      const attrNames = new Set(continuing.flatMap((o) => [...(o.attrs?.keys() ?? [])]));
      selfAttrs.clear();
      for (const name of attrNames) {
        const vals = continuing.map((o) => o.attrs?.get(name) ?? UNKNOWN);
        const merged = this.merge(vals, node, tags);
        // Missing in an arm: `hasattr(self, name)` is then not known either.
        selfAttrs.set(name, continuing.some((o) => !o.attrs?.has(name)) ? MAYBE_UNSET : merged);
      }
    }
    return "next";
  }

  private execFor(stmt: SyntaxNode, scope: Scope): Flow {
    const left = stmt.childForFieldName("left");
    const right = stmt.childForFieldName("right");
    const body = stmt.childForFieldName("body");
    if (!left || !right || !body) return "next";
    const iterable = this.evalExpr(right, scope);
    const loopId = this.nextLoopId++;
    const plan = this.iterationPlan(iterable, loopId, right);
    const saved = this.pos.loops;
    try {
      for (let j = 0; j < plan.values.length; j++) {
        this.step();
        this.pos.loops = [...saved, { loopId, iteration: j, count: plan.count, range: rangeOf(stmt) }];
        this.assignTarget(left, plan.values[j], scope);
        const flow = this.execBlock(body, scope);
        if (flow === "return") return "return";
        if (flow === "break") break;
      }
    } finally {
      this.pos.loops = saved;
    }
    return "next";
  }

  private execWhile(stmt: SyntaxNode, scope: Scope): Flow {
    const cond = stmt.childForFieldName("condition");
    const body = stmt.childForFieldName("body");
    if (!body) return "next";
    const loopId = this.nextLoopId++;
    if (cond && truthiness(this.evalExpr(cond, scope)) === false) return "next";
    const saved = this.pos.loops;
    try {
      for (let j = 0; j < 2; j++) {
        this.pos.loops = [...saved, { loopId, iteration: j, count: "many", range: rangeOf(stmt) }];
        const flow = this.execBlock(body, scope);
        if (flow === "return") return "return";
        if (flow === "break") break;
      }
    } finally {
      this.pos.loops = saved;
    }
    return "next";
  }

  /** What a `for` loop iterates over: known items one by one, otherwise two abstract iterations. */
  iterationPlan(iterable: Value, loopId: number, node: SyntaxNode): { values: Value[]; count: number | "many" } {
    if (iterable.k === "range") {
      const start = constValue(iterable.start);
      const stop = constValue(iterable.stop);
      const step = constValue(iterable.step);
      if (start !== undefined && stop !== undefined && step !== undefined && step !== 0) {
        const n = Math.max(0, Math.ceil((stop - start) / step));
        if (n <= LIMITS.unroll) return { values: Array.from({ length: n }, (_, j) => ({ k: "num", sym: symConst(start + j * step) })), count: n };
      }
      // An unknown count: two iterations stand for "2 or more". With a step of 1 the j-th value is `start + j`
      // (`range(1, n)` starts at 1: indexing with it must not visit item 0); with another step, a value of its own.
      const at = (j: number): Value => {
        if (step !== 1) return { k: "num", sym: symAtom(`__range${loopId}_${j}`) };
        const iter = symAtom(iterationAtom(loopId, j));
        return { k: "num", sym: start === 0 ? iter : symAdd(iterable.start, iter) };
      };
      return { values: [at(0), at(1)], count: "many" };
    }
    if (iterable.k === "instance" && this.recording) this.containersRun.add(iterable.inst);
    const list = listItems(iterable);
    if (list) {
      const items = list.items.slice(0, LIMITS.iterateItems).map((i) => i.value);
      if (list.items.length > LIMITS.iterateItems) {
        this.incomplete = true;
        this.notes.push(`a loop over more than ${LIMITS.iterateItems} items`);
      }
      return { values: items, count: list.exact ? items.length : "many" };
    }
    if (iterable.k === "dict") {
      return { values: [...iterable.entries.keys()].map((s) => ({ k: "str", s })), count: iterable.exact ? iterable.entries.size : "many" };
    }
    if (iterable.k === "tensor" && this.recording) {
      const values = [0, 1].map((j) => ({ k: "tensor" as const, node: this.addNode("call_function", "operator.getitem", [iterable.node], rangeOf(node), { extra: { args: [{ kind: "tensor", node: iterable.node }, { kind: "num", sym: symAtom(iterationAtom(loopId, j)) }], kwargs: new Map() } }) }));
      return { values, count: "many" };
    }
    escapeValue(iterable);
    return { values: [UNKNOWN, UNKNOWN], count: "many" };
  }

  // ───────────────────────────── expressions ─────────────────────────────

  evalExpr(node: SyntaxNode, scope: Scope): Value {
    this.step();
    this.enter();
    try {
      return this.evalExprAt(node, scope);
    } finally {
      this.nesting--;
    }
  }

  private evalExprAt(node: SyntaxNode, scope: Scope): Value {
    switch (node.type) {
      case "identifier":
        return this.lookupName(node.text, scope);
      case "integer": {
        const n = Number(node.text.replace(/_/g, "").replace(/[lL]$/, ""));
        return Number.isFinite(n) ? { k: "num", sym: symConst(n) } : UNKNOWN;
      }
      case "float": {
        const n = Number(node.text.replace(/_/g, ""));
        return Number.isFinite(n) ? { k: "num", sym: symConst(n) } : UNKNOWN;
      }
      case "true":
        return { k: "bool", b: true };
      case "false":
        return { k: "bool", b: false };
      case "none":
        return NONE;
      case "string":
        return this.evalString(node, scope);
      case "concatenated_string":
        return { k: "unknown", why: "string" };
      case "parenthesized_expression": {
        const inner = node.namedChildren.find((c) => c && c.type !== "comment");
        return inner ? this.evalExpr(inner, scope) : UNKNOWN;
      }
      case "tuple":
      case "expression_list":
        return { k: "tuple", items: this.evalSequence(node, scope).map((i) => i.value) };
      case "list": {
        const items = this.evalSequence(node, scope);
        return { k: "list", box: { items, exact: !items.some((i) => (i as { spreadInexact?: boolean }).spreadInexact) } };
      }
      case "dictionary":
        return this.evalDict(node, scope);
      case "attribute":
        return this.evalAttribute(node, scope);
      case "subscript":
        return this.evalSubscript(node, scope);
      case "call":
        return this.evalCall(node, scope);
      case "binary_operator": {
        const l = node.childForFieldName("left");
        const r = node.childForFieldName("right");
        const op = node.childForFieldName("operator")?.type ?? "?";
        if (!l || !r) return UNKNOWN;
        return this.binary(op, this.evalExpr(l, scope), this.evalExpr(r, scope), node);
      }
      case "unary_operator": {
        const arg = node.childForFieldName("argument");
        const op = node.childForFieldName("operator")?.type;
        const v = arg ? this.evalExpr(arg, scope) : UNKNOWN;
        if (v.k === "num" && op === "-") return { k: "num", sym: symNeg(v.sym) };
        if (v.k === "num" && op === "+") return v;
        if (v.k === "tensor" && this.recording) return { k: "tensor", node: this.addNode("call_function", `operator.${op === "-" ? "neg" : "pos"}`, [v.node], rangeOf(node)) };
        return UNKNOWN;
      }
      case "not_operator": {
        const arg = node.childForFieldName("argument");
        const v = arg ? this.evalExpr(arg, scope) : UNKNOWN;
        const t = truthiness(v);
        if (t !== undefined) return { k: "bool", b: !t };
        const c = runCondition(v);
        return c ? { k: "unknown", cond: { kind: "not", arg: c } } : UNKNOWN;
      }
      case "boolean_operator": {
        const l = node.childForFieldName("left");
        const r = node.childForFieldName("right");
        const op = node.childForFieldName("operator")?.type;
        if (!l || !r) return UNKNOWN;
        const lv = this.evalExpr(l, scope);
        const lt = truthiness(lv);
        if (op === "and") {
          if (lt === false) return lv;
          const rv = this.evalExpr(r, scope);
          return lt === true ? rv : combineConditions("and", lv, rv);
        }
        if (lt === true) return lv;
        const rv = this.evalExpr(r, scope);
        return lt === false ? rv : combineConditions("or", lv, rv);
      }
      case "comparison_operator":
        return this.evalComparison(node, scope);
      case "conditional_expression":
        return this.evalConditional(node, scope);
      case "list_comprehension":
      case "generator_expression":
      case "set_comprehension":
      case "dictionary_comprehension":
        return this.evalComprehension(node, scope);
      case "lambda":
        this.scanForEscapes(node, scope);
        return { k: "unknown", why: "lambda" };
      case "keyword_argument":
      case "ERROR":
        if (node.type === "ERROR") this.incomplete = true;
        return UNKNOWN;
      default:
        this.scanForEscapes(node, scope);
        return UNKNOWN;
    }
  }

  /** Elements of a list/tuple literal, with `*spread` expanded. */
  private evalSequence(node: SyntaxNode, scope: Scope): ListItem[] {
    const items: (ListItem & { spreadInexact?: boolean })[] = [];
    for (const child of node.namedChildren) {
      if (!child || child.type === "comment") continue;
      if (child.type === "list_splat") {
        const inner = child.namedChildren[0];
        const v = inner ? this.evalExpr(inner, scope) : UNKNOWN;
        const list = listItems(v);
        if (list) {
          checkListSize(items.length + list.items.length);
          items.push(...list.items.map((it) => ({ ...it, spreadInexact: !list.exact })));
        } else {
          escapeValue(v);
          items.push({ value: UNKNOWN, range: rangeOf(child), spreadInexact: true });
        }
        continue;
      }
      items.push({ value: this.evalExpr(child, scope), range: rangeOf(child) });
    }
    return items;
  }

  private evalDict(node: SyntaxNode, scope: Scope): Value {
    const entries = new Map<string, ListItem>();
    let exact = true;
    for (const pair of node.namedChildren) {
      if (!pair) continue;
      if (pair.type !== "pair") {
        if (pair.type !== "comment") {
          exact = false;
          escapeValue(this.evalExpr(pair.namedChildren[0] ?? pair, scope));
        }
        continue;
      }
      const key = pair.childForFieldName("key");
      const value = pair.childForFieldName("value");
      const k = key ? this.evalExpr(key, scope) : UNKNOWN;
      const v = value ? this.evalExpr(value, scope) : UNKNOWN;
      if (k.k === "str") entries.set(k.s, { value: v, range: value ? rangeOf(value) : undefined });
      else {
        exact = false;
        escapeValue(v);
      }
    }
    return { k: "dict", entries, exact };
  }

  evalAttribute(node: SyntaxNode, scope: Scope): Value {
    const obj = node.childForFieldName("object");
    const attr = node.childForFieldName("attribute");
    if (!obj || !attr) return UNKNOWN;
    const base = this.evalExpr(obj, scope);
    // `x.T` / `x.mT`: transposes, recorded as the method calls they equal.
    if (base.k === "tensor" && (attr.text === "T" || attr.text === "mT") && this.recording) {
      const dims: ExtraArg[] = attr.text === "mT" ? [{ kind: "num", sym: symConst(-2) }, { kind: "num", sym: symConst(-1) }] : [];
      return { k: "tensor", node: this.addNode("call_method", attr.text === "T" ? "t" : "transpose", [base.node], rangeOf(node), { extra: { args: [{ kind: "tensor", node: base.node }, ...dims], kwargs: new Map() } }) };
    }
    const part = parameterPart(base, `.${attr.text}`);
    if (part) return part;
    return this.getAttribute(base, attr.text, scope);
  }

  /**
   * Whether a recorded node stands for PyTorch's (values, indices) pair, of which the graph keeps the values:
   * `x.max(dim=2)`, `x.max(2)`, `torch.max(x, 2, keepdim=True)` (not `torch.max(a, b)`, an elementwise maximum).
   */
  private returnsValuesIndices(id: number): boolean {
    const n = this.nodes[id];
    if (!n?.extra) return false;
    if (n.op === "call_method") return VALUES_INDICES_METHODS.has(n.target) && (n.extra.kwargs.has("dim") || n.extra.args.length >= 2);
    if (n.op !== "call_function" || !VALUES_INDICES_FUNCTIONS.has(n.target)) return false;
    const second = n.extra.args[1];
    return n.extra.kwargs.has("dim") || (second !== undefined && second.kind !== "tensor");
  }

  /**
   * `hasattr(obj, name)` on a module of a user class: true for what `__init__` set and for the class's methods
   * and class attributes; false only for a name nothing could have set (an escaped module may have been given
   * anything; nn.Module's own attributes and private names are not decided); undefined when not known.
   */
  hasAttribute(inst: ModuleInstance, name: string): boolean | undefined {
    const own = inst.attrs.get(name);
    if (own !== undefined) return own === MAYBE_UNSET ? undefined : true;
    if (!inst.userClass) return undefined;
    if (findMethod(inst.userClass, name) || this.classAttribute(inst.userClass, name)) return true;
    if (inst.escaped || name.startsWith("_") || NN_MODULE_ATTRIBUTES.has(name)) return undefined;
    return false;
  }

  getAttribute(base: Value, name: string, scope?: Scope): Value {
    switch (base.k) {
      case "qualname":
        return { k: "qualname", name: canonicalName(`${base.name}.${name}`) };
      case "instance": {
        const own = base.inst.attrs.get(name);
        if (own !== undefined) return own;
        // A module's mode: either, for the analysis; the executor knows it in each pass.
        if (name === "training" && this.recording) return { k: "unknown", why: "mode", cond: { kind: "training" } };
        if (base.inst.userClass) {
          const method = findMethod(base.inst.userClass, name);
          // mmcv-style `@property def norm1(self): return getattr(self, self.norm1_name)`: reading it runs it.
          if (method?.def.isProperty) return this.callFunction(method.def, base, NO_CALL_ARGS, { cls: method.cls, owner: scope?.owner });
          if (method) return { k: "function", def: method.def, self: base, cls: method.cls };
          const classValue = this.classAttribute(base.inst.userClass, name);
          if (classValue) return classValue;
        }
        return { k: "method", recv: base, name };
      }
      case "tensor":
        // `x.max(dim=2).values`: the reductions that return (values, indices) are recorded as their values.
        if (name === "values" && this.recording && this.returnsValuesIndices(base.node)) return base;
        // The model runs on the CPU here (`if x.is_cuda: iden = iden.cuda()` only moves a tensor).
        if (name === "is_cuda") return { k: "bool", b: false };
        return { k: "method", recv: base, name };
      case "list":
      case "dict":
        return { k: "method", recv: base, name };
      case "factory":
        if (base.userClass) return this.classAttribute(base.userClass, name) ?? UNKNOWN;
        return UNKNOWN;
      case "super": {
        for (const b of base.cls.bases) {
          const method = findMethod(b, name);
          if (method) return { k: "function", def: method.def, self: base.self, cls: method.cls };
        }
        return { k: "qualname", name: `super.${name}` };
      }
      default:
        return UNKNOWN;
    }
  }

  private readonly classAttrCache = new Map<string, Value>();

  classAttribute(cls: ModelClass, name: string, seen = new Set<ModelClass>()): Value | undefined {
    if (seen.has(cls)) return undefined;
    seen.add(cls);
    const key = `${cls.name}.${name}`;
    const cached = this.classAttrCache.get(key);
    if (cached) return cached;
    const expr = cls.classAssignments.get(name);
    if (expr) {
      this.classAttrCache.set(key, UNKNOWN);
      const v = this.evalExpr(expr, { env: new Map(), returns: [] });
      this.classAttrCache.set(key, v);
      return v;
    }
    for (const b of cls.bases) {
      const v = this.classAttribute(b, name, seen);
      if (v) return v;
    }
    return undefined;
  }

  private evalSubscript(node: SyntaxNode, scope: Scope): Value {
    const obj = node.childForFieldName("value");
    const subs = node.childrenForFieldName("subscript").filter((s): s is SyntaxNode => !!s);
    if (!obj) return UNKNOWN;
    const base = this.evalExpr(obj, scope);
    const keys = subs.map((s) => (s.type === "slice" ? ({ k: "unknown", why: "slice" } as Value) : this.evalExpr(s, scope)));
    if (base.k === "tensor") {
      if (!this.recording) return UNKNOWN;
      // `torch.max(x, 2)[0]`: the values of a (values, indices) pair, not the first row of the values.
      if (keys.length === 1 && this.returnsValuesIndices(base.node)) {
        const i = keys[0].k === "num" ? constValue(keys[0].sym) : undefined;
        if (i === 0 || i === -2) return base;
        return { k: "unknown", why: "the indices of a (values, indices) pair" };
      }
      const args: ExtraArg[] = [{ kind: "tensor", node: base.node }, ...subs.map((s, i) => (s.type === "slice" ? this.sliceArg(s, scope) : this.extraArgOf(keys[i], s.text)))];
      const inputs = [base.node, ...keys.flatMap((k) => tensorsIn(k))];
      return { k: "tensor", node: this.addNode("call_function", "operator.getitem", inputs, rangeOf(node), { extra: { args, kwargs: new Map() } }) };
    }
    if (keys.length !== 1) return UNKNOWN;
    const index = keys[0].k === "num" ? constValue(keys[0].sym) : undefined;
    const part = index !== undefined && Number.isInteger(index) && index >= 0 ? parameterPart(base, `[${index}]`) : undefined;
    if (part) return part;
    if (base.k === "method" && base.name === "shape" && base.recv.k === "tensor") return this.shapeItem(base.recv.node, keys[0], subs[0], scope);
    if (subs[0].type === "slice" && (base.k === "list" || base.k === "tuple")) {
      // `widths[:-1]`, `cfg[1:]`: a slice of a sequence whose items are all known.
      const list = listItems(base)!;
      const bounds = this.sliceBounds(subs[0], scope);
      if (list.exact && bounds) {
        const n = list.items.length;
        const clamp = (i: number | undefined, dflt: number): number => (i === undefined ? dflt : Math.min(n, Math.max(0, i < 0 ? i + n : i)));
        const items = list.items.slice(clamp(bounds.start, 0), clamp(bounds.end, n));
        return base.k === "tuple" ? { k: "tuple", items: items.map((i) => i.value) } : { k: "list", box: { items: [...items], exact: true } };
      }
    }
    return this.index1(base, keys[0], subs[0]);
  }

  /** The constant bounds of `a:b`, `a:`, `:b` (no step), or undefined. */
  private sliceBounds(keyNode: SyntaxNode, scope: Scope): { start?: number; end?: number } | undefined {
    const constant = (n: SyntaxNode | null | undefined): number | undefined => {
      if (!n) return undefined;
      const sym = numOf(this.evalExpr(n, scope));
      const c = sym ? constValue(sym) : undefined;
      return c !== undefined && Number.isInteger(c) ? c : undefined;
    };
    const parts = keyNode.namedChildren.filter((c) => c.type !== "comment");
    const colon = keyNode.children.filter((c) => c.type === ":").length;
    if (colon !== 1) return undefined;
    const before = keyNode.text.indexOf(":");
    const startNode = parts.find((p) => p.endIndex <= keyNode.startIndex + before);
    const endNode = parts.find((p) => p.startIndex > keyNode.startIndex + before);
    const start = startNode ? constant(startNode) : undefined;
    const end = endNode ? constant(endNode) : undefined;
    if ((startNode && start === undefined) || (endNode && end === undefined)) return undefined;
    return { start, end };
  }

  /**
   * `x.shape[i]` and `x.shape[a:b]`: sizes only known at run time, kept with their tensor for the executor.
   * `x.shape[0]` stays as text: the executor reads batch sizes off it as before.
   */
  private shapeItem(node: number, key: Value, keyNode: SyntaxNode, scope: Scope): Value {
    if (keyNode.type === "slice") {
      const bounds = this.sliceBounds(keyNode, scope);
      return bounds ? { k: "unknown", why: "shape", dims: { node, start: bounds.start, end: bounds.end } } : UNKNOWN;
    }
    const sym = numOf(key);
    const c = sym ? constValue(sym) : undefined;
    if (c === undefined || !Number.isInteger(c) || c === 0) return UNKNOWN;
    return { k: "unknown", why: "shape", dims: { node, index: c } };
  }

  /** `base[key]` for lists, tuples, dicts and module containers. */
  index1(base: Value, key: Value, keyNode: SyntaxNode | undefined): Value {
    if (base.k === "dict" || (base.k === "instance" && base.inst.dictChildren)) {
      const entries = base.k === "dict" ? base.entries : base.inst.dictChildren!;
      if (key.k === "str") {
        const hit = entries.get(key.s);
        if (hit) return hit.value;
      }
      escapeValue(base);
      return UNKNOWN;
    }
    const list = listItems(base);
    if (!list) return UNKNOWN;
    if (keyNode?.type === "slice") {
      escapeValue(base);
      return UNKNOWN;
    }
    const sym = numOf(key);
    const c = sym ? constValue(sym) : undefined;
    if (c !== undefined && Number.isInteger(c)) {
      const i = c < 0 ? list.items.length + c : c;
      if (list.exact || c >= 0) {
        const item = list.items[i];
        if (item) return item.value;
      }
    }
    // `self.bns[i]` with i the loop variable: the j-th iteration visits the j-th item, or item `start + j` for a
    // loop over `range(start, n)` (`i` is then the iteration atom plus the constant start).
    const offset = sym ? iterationOffset(sym) : undefined;
    if (offset) {
      const item = list.items[offset.iteration + offset.start];
      if (item) return item.value;
    }
    escapeValue(base);
    return UNKNOWN;
  }

  private evalComparison(node: SyntaxNode, scope: Scope): Value {
    const operands = node.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== "comment");
    const ops = node.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    if (operands.length !== 2) {
      operands.forEach((o) => this.evalExpr(o, scope));
      return UNKNOWN;
    }
    const a = this.evalExpr(operands[0], scope);
    const b = this.evalExpr(operands[1], scope);
    const op = ops.join(" ");
    const isNoneCheck = (x: Value, y: Value): boolean | undefined => {
      if (y.k !== "none") return undefined;
      if (x.k === "none") return true;
      if (x.k === "unknown" || x.k === "tensor") return x.k === "tensor" ? false : undefined;
      return false;
    };
    // `type(x) == int`, `type(x) is str`: two builtin types, both certain.
    if (a.k === "qualname" && b.k === "qualname" && a.name.startsWith("builtins.") && b.name.startsWith("builtins.") && ["==", "!=", "is", "is not"].includes(op)) {
      return { k: "bool", b: (a.name === b.name) === (op === "==" || op === "is") };
    }
    if (op === "is" || op === "is not") {
      const r = isNoneCheck(a, b) ?? isNoneCheck(b, a);
      if (r === undefined) return UNKNOWN;
      return { k: "bool", b: op === "is" ? r : !r };
    }
    if (op === "==" || op === "!=" || op === "<" || op === ">" || op === "<=" || op === ">=") {
      const x = numOf(a);
      const y = numOf(b);
      const cx = x ? constValue(x) : undefined;
      const cy = y ? constValue(y) : undefined;
      if (cx !== undefined && cy !== undefined) {
        const r = op === "==" ? cx === cy : op === "!=" ? cx !== cy : op === "<" ? cx < cy : op === ">" ? cx > cy : op === "<=" ? cx <= cy : cx >= cy;
        return { k: "bool", b: r };
      }
      if (a.k === "str" && b.k === "str" && (op === "==" || op === "!=")) return { k: "bool", b: (a.s === b.s) === (op === "==") };
      // A number never equals a string (VGG's `if v == "M"` over a config of ints and "M").
      if (((a.k === "num" && b.k === "str") || (a.k === "str" && b.k === "num")) && (op === "==" || op === "!=")) return { k: "bool", b: op === "!=" };
      // A size the input decides (`x.shape[-1] <= self.small_size`): known to the executor, not here.
      const left = sizeExprOf(a);
      const right = sizeExprOf(b);
      if (left && right && !("num" in left && "num" in right)) return { k: "unknown", cond: { kind: "compare", op, left, right } };
    }
    if ((a.k === "tensor" || b.k === "tensor") && this.recording) {
      return { k: "tensor", node: this.addNode("call_function", `operator.${op}`, [...tensorsIn(a), ...tensorsIn(b)], rangeOf(node)) };
    }
    return UNKNOWN;
  }

  private evalConditional(node: SyntaxNode, scope: Scope): Value {
    const parts = node.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== "comment");
    if (parts.length !== 3) return UNKNOWN;
    const [body, cond, alt] = parts;
    const c = this.evalExpr(cond, scope);
    const t = truthiness(c);
    if (t === true) return this.evalExpr(body, scope);
    if (t === false) return this.evalExpr(alt, scope);
    const ifId = this.nextIfId++;
    if (this.recording) {
      this.branchConditions.set(ifId, { line: rangeOf(node).start.line, arms: [runCondition(c), "else"] });
      this.ifNodes.set(ifId, node);
    }
    const saved = this.pos.branches;
    const tags = [[...saved, { ifId, arm: 0 }], [...saved, { ifId, arm: 1 }]];
    this.pos.branches = tags[0];
    const a = this.evalExpr(body, scope);
    this.pos.branches = tags[1];
    const b = this.evalExpr(alt, scope);
    this.pos.branches = saved;
    return this.merge([a, b], node, tags);
  }

  private evalComprehension(node: SyntaxNode, scope: Scope): Value {
    const body = node.childForFieldName("body");
    const clauses = node.namedChildren.filter((c): c is SyntaxNode => !!c && (c.type === "for_in_clause" || c.type === "if_clause"));
    if (!body) return UNKNOWN;
    const out: ListItem[] = [];
    // `{d: nn.BatchNorm2d(c) for d in domains}`: entries by key (a key bnlint cannot read makes it inexact).
    const entries = node.type === "dictionary_comprehension" ? new Map<string, ListItem>() : undefined;
    let exact = true;
    const inner = new Map(scope.env);
    const sub: Scope = { ...scope, env: inner };
    const savedLoops = this.pos.loops;
    const run = (ci: number): void => {
      if (ci >= clauses.length) {
        if (entries) {
          const keyNode = body.childForFieldName("key");
          const valueNode = body.childForFieldName("value");
          const key = keyNode ? this.evalExpr(keyNode, sub) : UNKNOWN;
          const value = valueNode ? this.evalExpr(valueNode, sub) : UNKNOWN;
          if (key.k === "str") entries.set(key.s, { value, range: valueNode ? rangeOf(valueNode) : rangeOf(body) });
          else {
            exact = false;
            escapeValue(value);
          }
          return;
        }
        out.push({ value: this.evalExpr(body, sub), range: rangeOf(body) });
        return;
      }
      const clause = clauses[ci];
      if (clause.type === "if_clause") {
        const c = clause.namedChildren[0];
        const t = c ? truthiness(this.evalExpr(c, sub)) : undefined;
        if (t === undefined) exact = false;
        if (t !== false) run(ci + 1);
        return;
      }
      const left = clause.childForFieldName("left");
      const right = clause.childForFieldName("right");
      if (!left || !right) return;
      const loopId = this.nextLoopId++;
      const plan = this.iterationPlan(this.evalExpr(right, sub), loopId, right);
      if (plan.count === "many") exact = false;
      const before = this.pos.loops;
      for (let j = 0; j < plan.values.length; j++) {
        this.pos.loops = [...before, { loopId, iteration: j, count: plan.count, range: rangeOf(clause) }];
        this.assignTarget(left, plan.values[j], sub);
        run(ci + 1);
      }
      this.pos.loops = before;
    };
    try {
      run(0);
    } finally {
      this.pos.loops = savedLoops;
    }
    if (entries) return { k: "dict", entries, exact };
    return { k: "list", box: { items: out, exact } };
  }

  /**
   * A string literal; an f-string whose fields are integers or strings the analysis knows (`f"conv{i}"` in an
   * unrolled loop) becomes that string. A format spec or conversion (`{x:.2f}`, `{x!r}`) leaves it unknown.
   */
  private evalString(node: SyntaxNode, scope: Scope): Value {
    let s = "";
    for (const part of node.namedChildren) {
      if (part.type === "string_content") s += part.text;
      else if (part.type === "interpolation") {
        const expr = part.childForFieldName("expression");
        if (!expr || part.namedChildren.some((c) => c.type === "format_specifier" || c.type === "type_conversion")) return { k: "unknown", why: "f-string" };
        const piece = plainText(this.evalExpr(expr, scope));
        if (piece === undefined) return { k: "unknown", why: "f-string" };
        s += piece;
      }
    }
    return { k: "str", s };
  }

  binary(op: string, a: Value, b: Value, node: SyntaxNode): Value {
    // `"denselayer%d" % (i + 1)`: printf-style formatting of known integers and strings.
    if (op === "%" && a.k === "str") {
      const values = b.k === "tuple" ? b.items : [b];
      return percentFormat(a.s, values);
    }
    // Arithmetic on sizes read at run time (`diff_y // 2`, `c // groups`): kept for the executor.
    if (SIZE_OPS.has(op) && (isRunTimeSize(a) || isRunTimeSize(b))) {
      const [left, right] = [sizeExprOf(a), sizeExprOf(b)];
      return left && right ? { k: "unknown", why: "size", size: { op: op as SizeOp, left, right } } : UNKNOWN;
    }
    const x = numOf(a);
    const y = numOf(b);
    if (x && y && a.k !== "tensor" && b.k !== "tensor") {
      switch (op) {
        case "+":
          return { k: "num", sym: symAdd(x, y) };
        case "-":
          return { k: "num", sym: symSub(x, y) };
        case "*": {
          const m = symMul(x, y);
          return m ? { k: "num", sym: m } : UNKNOWN;
        }
        case "//":
          return { k: "num", sym: symFloorDiv(x, y) };
        case "/":
          return { k: "num", sym: symTrueDiv(x, y) };
        case "**": {
          const e = constValue(y);
          const base = constValue(x);
          if (e !== undefined && base !== undefined) return { k: "num", sym: symConst(base ** e) };
          if (e !== undefined && Number.isInteger(e) && e >= 0 && e <= 4) {
            let r: Sym | undefined = symConst(1);
            for (let i = 0; i < e && r; i++) r = symMul(r, x);
            return r ? { k: "num", sym: r } : UNKNOWN;
          }
          return UNKNOWN;
        }
        case "%": {
          const cx = constValue(x);
          const cy = constValue(y);
          return cx !== undefined && cy !== undefined && cy !== 0 ? { k: "num", sym: symConst(((cx % cy) + cy) % cy) } : UNKNOWN;
        }
        default:
          return UNKNOWN;
      }
    }
    if (op === "+" && (a.k === "list" || a.k === "tuple") && (b.k === "list" || b.k === "tuple")) {
      const la = listItems(a)!;
      const lb = listItems(b)!;
      checkListSize(la.items.length + lb.items.length);
      const items = [...la.items, ...lb.items];
      return a.k === "tuple" && b.k === "tuple" ? { k: "tuple", items: items.map((i) => i.value) } : { k: "list", box: { items, exact: la.exact && lb.exact } };
    }
    if (op === "*" && (a.k === "list" || b.k === "list")) {
      const list = listItems(a.k === "list" ? a : b)!;
      const times = numOf(a.k === "list" ? b : a);
      const n = times ? constValue(times) : undefined;
      if (n !== undefined && n >= 0 && n <= LIMITS.iterateItems) {
        checkListSize(n * list.items.length);
        const items: ListItem[] = [];
        for (let i = 0; i < n; i++) items.push(...list.items);
        return { k: "list", box: { items, exact: list.exact } };
      }
      // An unknown repeat count of the same items: at least twice is not known either; keep them, inexact.
      return { k: "list", box: { items: list.items, exact: false } };
    }
    if ((a.k === "tensor" || b.k === "tensor") && this.recording) {
      const inputs = [...tensorsIn(a), ...tensorsIn(b)];
      const name = BINARY_NAMES[op] ?? op;
      const extra = { args: [this.extraArgOf(a, ""), this.extraArgOf(b, "")], kwargs: new Map<string, ExtraArg>() };
      return { k: "tensor", node: this.addNode("call_function", `operator.${name}`, inputs, rangeOf(node), { extra }) };
    }
    if (a.k === "unknown" || b.k === "unknown") return UNKNOWN;
    return UNKNOWN;
  }

  // ───────────────────────────── calls ─────────────────────────────

  private evalCall(node: SyntaxNode, scope: Scope): Value {
    const fnNode = node.childForFieldName("function");
    const argsNode = node.childForFieldName("arguments");
    if (!fnNode) return UNKNOWN;
    const callee = this.evalExpr(fnNode, scope);
    const args = this.evalArgs(argsNode, scope);
    return callValue(this, callee, args, { node, calleeNode: fnNode, scope });
  }

  evalArgs(argsNode: SyntaxNode | null, scope: Scope): CallArgs {
    const positional: ArgInfo[] = [];
    // Most calls pass no keyword: they share one empty map (CallArgs.keywords is read-only).
    let keywords: Map<string, ArgInfo> | undefined;
    let spread = false;
    if (!argsNode) return { positional, keywords: NO_KEYWORDS, spread };
    if (argsNode.type === "generator_expression") {
      positional.push({ value: this.evalExpr(argsNode, scope), text: argsNode.text, range: rangeOf(argsNode) });
      return { positional, keywords: NO_KEYWORDS, spread };
    }
    for (const a of argsNode.namedChildren) {
      if (!a || a.type === "comment") continue;
      if (a.type === "keyword_argument") {
        const name = a.childForFieldName("name");
        const value = a.childForFieldName("value");
        if (name && value) (keywords ??= new Map()).set(name.text, { value: this.evalExpr(value, scope), text: value.text, range: rangeOf(value) });
      } else if (a.type === "list_splat") {
        const inner = a.namedChildren[0];
        const v = inner ? this.evalExpr(inner, scope) : UNKNOWN;
        const list = listItems(v);
        if (list && list.exact) for (const it of list.items) positional.push({ value: it.value, text: inner?.text ?? "", range: it.range ?? rangeOf(a) });
        else if (list) {
          for (const it of list.items) positional.push({ value: it.value, text: inner?.text ?? "", range: it.range ?? rangeOf(a) });
          spread = true;
        } else {
          escapeValue(v);
          spread = true;
        }
      } else if (a.type === "dictionary_splat") {
        const inner = a.namedChildren[0];
        const v = inner ? this.evalExpr(inner, scope) : UNKNOWN;
        if (v.k === "dict") {
          // Each entry's text is its value as written where the dict was built (`momentum=0.99` in `dict(...)`).
          for (const [k, item] of v.entries) (keywords ??= new Map()).set(k, { value: item.value, text: item.range ? this.index.text.slice(item.range.startIndex, item.range.endIndex) : k, range: item.range ?? rangeOf(a) });
          if (!v.exact) spread = true;
        } else {
          escapeValue(v);
          spread = true;
        }
      } else {
        positional.push({ value: this.evalExpr(a, scope), text: a.text, range: rangeOf(a) });
      }
    }
    return { positional, keywords: keywords ?? NO_KEYWORDS, spread };
  }
}

const NO_KEYWORDS: ReadonlyMap<string, ArgInfo> = new Map();

const BINARY_NAMES: Record<string, string> = {
  "+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "@": "matmul", "%": "mod", "**": "pow",
  "&": "and_", "|": "or_", "^": "xor", "<<": "lshift", ">>": "rshift",
};

const BUILTINS = new Set([
  "range", "len", "int", "float", "min", "max", "getattr", "setattr", "hasattr", "isinstance", "list", "tuple",
  "enumerate", "zip", "super", "print", "sum", "abs", "round", "dict", "reversed", "sorted", "iter", "next", "str",
  "bool", "type", "map", "filter", "any", "all", "vars", "callable", "id", "hash", "format", "divmod", "pow",
]);

/** `str(v)` for the values whose text Python and bnlint agree on: integers and strings. */
function plainText(v: Value): string | undefined {
  if (v.k === "str") return v.s;
  if (v.k === "num") {
    const c = constValue(v.sym);
    return c !== undefined && Number.isInteger(c) ? String(c) : undefined;
  }
  return undefined;
}

/** `template % values` for `%d`, `%i`, `%s` and `%%`; anything else is unknown. */
function percentFormat(template: string, values: readonly Value[]): Value {
  let next = 0;
  let failed = false;
  const out = template.replace(/%([%dis])/g, (_, kind: string) => {
    if (kind === "%") return "%";
    const text = values[next++] ? plainText(values[next - 1]) : undefined;
    if (text === undefined || (kind !== "s" && !/^-?\d+$/.test(text))) failed = true;
    return text ?? "";
  });
  if (failed || next !== values.length || /%[^%dis]/.test(template.replace(/%%/g, ""))) return { k: "unknown", why: "string formatting" };
  return { k: "str", s: out };
}

/** The run-time condition a value stands for, if any. */
function runCondition(v: Value): RunCondition | undefined {
  return v.k === "unknown" ? v.cond : undefined;
}

/** `a and b` / `a or b` where `a` is decided only at run time: a condition when `b` is one or is known. */
function combineConditions(op: "and" | "or", a: Value, b: Value): Value {
  const left = runCondition(a);
  if (!left) return UNKNOWN;
  const bt = truthiness(b);
  // `training and True` is `training`; `training and False` would be False, but Python returns an operand.
  if ((op === "and" && bt === true) || (op === "or" && bt === false)) return { k: "unknown", cond: left };
  const right = runCondition(b);
  return right ? { k: "unknown", cond: { kind: op, left, right } } : UNKNOWN;
}

const SIZE_OPS = new Set(["+", "-", "*", "//", "/", "%"]);

/**
 * What a list holds after exclusive arms that each left it as `ends[i]`: the same items in every arm stay as they
 * are; otherwise the items all arms share at the front stay, the rest become "more may follow" (`exact` false)
 * and escape, since an arm may or may not have added them. With no arm falling through, the contents before.
 */
/**
 * The arms of an if/else bnlint cannot decide each build a BatchNorm of one type and size, or leave None
 * (`if cin == cout: self.bn = nn.BatchNorm2d(c) else: self.bn = nn.BatchNorm2d(c, eps=1e-3)`, RepVGG's
 * `nn.BatchNorm2d(c) if cin == cout and stride == 1 else None`): whichever arm runs, a call through the name
 * calls one BatchNorm of that size, so the first arm's stands for all of them and the others are left out of
 * every rule (escaped). Anything else merges as before: the modules are no longer tracked.
 */
function oneBatchNormOfArms(values: Value[]): Value | undefined {
  const built = values.filter((v): v is Extract<Value, { k: "instance" }> => v.k === "instance");
  if (built.length === 0 || built.length + values.filter((v) => v.k === "none").length !== values.length) return undefined;
  const first = built[0].inst;
  const size = (inst: ModuleInstance): string | undefined => (inst.args[0] ?? inst.kwargs.get("num_features"))?.text;
  const sameKind = (inst: ModuleInstance): boolean => inst.qualname === first.qualname && inst.definedBy === first.definedBy && !inst.escaped && size(inst) === size(first);
  if (!isBatchNormType(first.qualname) || size(first) === undefined || !built.every((v) => sameKind(v.inst))) return undefined;
  for (const v of built) if (v.inst !== first) escapeValue(v);
  return built[0];
}

/** `__iter7_1 + 2` → iteration 1 from start 2; undefined for anything but an iteration atom plus a constant. */
function iterationOffset(sym: Sym): { iteration: number; start: number } | undefined {
  let iteration: number | undefined;
  let start = 0;
  for (const [key, coef] of sym.terms) {
    if (key === "") start = coef;
    else {
      const m = /^__iter\d+_(\d+)$/.exec(key);
      if (!m || coef !== 1 || iteration !== undefined) return undefined;
      iteration = Number(m[1]);
    }
  }
  return iteration === undefined || !Number.isInteger(start) || start < 0 ? undefined : { iteration, start };
}

/**
 * `configs.d_model`, `dims[0]`: a part of an `__init__` parameter bnlint knows nothing of, read as a size of its
 * own, the same wherever the same part is read (Time-Series-Library's config objects, ModernTCN's `dims`).
 */
function parameterPart(base: Value, suffix: string): Value | undefined {
  if (base.k !== "unknown" || base.why !== "parameter" || !base.sym) return undefined;
  const atoms = symAtoms(base.sym);
  if (atoms.length !== 1 || !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*|\[\d+\])*$/.test(atoms[0]!) || symToString(base.sym) !== atoms[0]) return undefined;
  return { k: "unknown", sym: symAtom(`${atoms[0]}${suffix}`), why: "parameter" };
}

function reconcileLists(boxes: ListBox[], ends: { items: ListItem[]; exact: boolean }[][], start: { items: ListItem[]; exact: boolean }[]): void {
  boxes.forEach((box, j) => {
    const arms = ends.map((e) => e[j]);
    if (arms.length === 0) {
      box.items = [...start[j].items];
      box.exact = start[j].exact;
      return;
    }
    const first = arms[0];
    let prefix = first.items.length;
    for (const arm of arms) {
      let k = 0;
      while (k < prefix && k < arm.items.length && arm.items[k].value === first.items[k].value) k++;
      prefix = k;
    }
    const same = arms.every((a) => a.items.length === prefix && a.exact === first.exact) && first.items.length === prefix;
    box.items = first.items.slice(0, prefix);
    box.exact = same ? first.exact : false;
    if (!same) for (const arm of arms) for (const item of arm.items.slice(prefix)) escapeValue(item.value);
  });
}

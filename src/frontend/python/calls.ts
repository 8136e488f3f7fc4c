import type { SyntaxNode } from "./parser.js";
import { rangeOf, type SourceRange } from "../../model/source.js";
import { findMethod, type ModelClass } from "../../model/index-types.js";
import type { ArgInfo, ListItem, ModuleInstance, Value } from "../../model/values.js";
import { NONE, UNKNOWN } from "../../model/values.js";
import type { ExtraArg, Frame } from "../../model/graph.js";
import { constValue, symAdd, symApply, symConst, symInt, type Sym } from "../../model/symbolic.js";
import { CONTAINER_TYPES, DYNAMIC_MODULE_ACCESS_METHODS, EAGER_FALSE_CALL, IN_PLACE_METHOD, INERT_CALL, isBatchNormType, shortName, TORCH_NN_CLASSES } from "../../model/knowledge.js";
import { checkListSize, escapeValue, instancesIn, isRunTimeSize, LIMITS, listItems, markEscaped, numOf, sizeExprOf, tensorsIn } from "./interp-support.js";
import type { Interpreter, Scope } from "./interpreter.js";

export interface CallArgs {
  positional: ArgInfo[];
  keywords: ReadonlyMap<string, ArgInfo>;
  /** Some arguments came from `*xs`/`**kw` that could not be resolved. */
  spread: boolean;
}

export interface CallSite {
  node: SyntaxNode;
  calleeNode: SyntaxNode;
  scope: Scope;
  /** For children of nn.Sequential: where the child stands in the container, reported instead of the call. */
  rangeOverride?: SourceRange;
}

/** Whether another name of the running function holds the same tensor as the receiver of an in-place call. */
function aliasedElsewhere(site: CallSite, node: number): boolean {
  const receiver = site.calleeNode.childForFieldName("object");
  let holders = 0;
  for (const [name, v] of site.scope.env) if (v.k === "tensor" && v.node === node && name !== receiver?.text) holders++;
  return holders > 0;
}

const NON_TENSOR_METHODS = new Set([
  "size", "dim", "numel", "item", "tolist", "stride", "is_contiguous", "data_ptr", "get_device", "element_size",
  "nelement", "ndimension", "numpy", "__len__", "shape", "dtype", "device",
]);

const PASS_THROUGH_MODULE_METHODS = new Set(["to", "cuda", "cpu", "train", "eval", "float", "double", "half", "requires_grad_", "type"]);

function allArgs(args: CallArgs): Value[] {
  return [...args.positional.map((a) => a.value), ...[...args.keywords.values()].map((a) => a.value)];
}

function escapeArgs(args: CallArgs): void {
  for (const v of allArgs(args)) escapeValue(v);
}

/** Calls `callee` with `args` at `site`. */
export function callValue(interp: Interpreter, callee: Value, args: CallArgs, site: CallSite): Value {
  switch (callee.k) {
    case "factory":
      return construct(interp, callee, args, site);
    case "qualname":
      return callQualname(interp, callee.name, args, site);
    case "function":
      return callUserFunction(interp, callee, args, site);
    case "instance":
      if (!interp.recording) return UNKNOWN;
      return callModule(interp, callee.inst, args, site);
    case "method":
      return callMethod(interp, callee.recv, callee.name, args, site);
    default:
      if (interp.recording) return interp.opaque(`call of ${site.calleeNode.text}`, site.node, allArgs(args));
      escapeArgs(args);
      return UNKNOWN;
  }
}

// ───────────────────────────── constructors ─────────────────────────────

function isModuleClassName(qualname: string): boolean {
  if (TORCH_NN_CLASSES.has(qualname)) return true;
  const last = shortName(qualname);
  return qualname.startsWith("torch.nn.") && !qualname.startsWith("torch.nn.functional.") && /^[A-Z]/.test(last);
}

function construct(interp: Interpreter, factory: Extract<Value, { k: "factory" }>, callArgs: CallArgs, site: CallSite): Value {
  const args: CallArgs = {
    positional: [...factory.boundArgs, ...callArgs.positional],
    keywords: new Map([...factory.boundKwargs, ...callArgs.keywords]),
    spread: callArgs.spread,
  };
  if (factory.userClass) {
    const batchNorm = batchNormBase(factory.userClass);
    if (batchNorm) return constructBatchNormSubclass(interp, factory.userClass, batchNorm, args, site, factory.text);
    return constructUserClass(interp, factory.userClass, args, site, factory.text);
  }
  if (factory.qualname) return constructLibraryModule(interp, factory.qualname, args, site, factory.text);
  escapeArgs(args);
  return UNKNOWN;
}

function constructUserClass(interp: Interpreter, cls: ModelClass, args: CallArgs, site: CallSite, text: string): Value {
  const inst = interp.newInstance({
    userClass: cls,
    args: args.positional,
    kwargs: args.keywords,
    ctorRange: rangeOf(site.node),
    ctorText: text,
    ownerClass: site.scope.owner,
  });
  const self: Value = { k: "instance", inst };
  const init = findMethod(cls, "__init__");
  if (init) interp.callFunction(init.def, self, args, { cls: init.cls, owner: cls });
  else if (!cls.isModel) escapeArgs(args);
  return self;
}

function constructLibraryModule(interp: Interpreter, qualname: string, args: CallArgs, site: CallSite, text: string): Value {
  const base = {
    qualname,
    args: args.positional,
    kwargs: args.keywords,
    ctorRange: rangeOf(site.node),
    ctorText: text,
    ownerClass: site.scope.owner,
  };
  if (CONTAINER_TYPES.has(qualname)) return { k: "instance", inst: interp.newInstance({ ...base, args: [], ...containerChildren(qualname, args) }) };
  if (!TORCH_NN_CLASSES.has(qualname)) escapeArgs(args);
  return { k: "instance", inst: interp.newInstance(base) };
}

/** The children a container's constructor arguments give it: `Sequential(a, b)`, `Sequential(OrderedDict)`, `ModuleList(list)`, `ModuleDict(dict)`. */
function containerChildren(qualname: string, args: CallArgs): Pick<ModuleInstance, "children" | "childrenExact" | "dictChildren" | "dictChildrenExact"> {
  if (qualname === "torch.nn.Sequential") {
    const first = args.positional[0];
    if (args.positional.length === 1 && first.value.k === "dict") return { children: [...first.value.entries.values()], childrenExact: first.value.exact };
    return { children: args.positional.map((a) => ({ value: a.value, range: a.range })), childrenExact: !args.spread };
  }
  if (qualname === "torch.nn.ModuleList") {
    const list = args.positional[0] ? listItems(args.positional[0].value) : { items: [], exact: true };
    if (!list) escapeArgs(args);
    return { children: list ? [...list.items] : [], childrenExact: list ? list.exact : false };
  }
  const d = args.positional[0]?.value;
  if (d && d.k !== "dict") escapeValue(d);
  return { dictChildren: d?.k === "dict" ? new Map(d.entries) : new Map<string, ListItem>(), dictChildrenExact: !d || (d.k === "dict" && d.exact) };
}

/** The BatchNorm class (`torch.nn.BatchNorm2d`, `_BatchNorm`) a user class derives from, directly or through in-file bases. */
export function batchNormBase(cls: ModelClass, seen = new Set<ModelClass>()): string | undefined {
  if (seen.has(cls)) return undefined;
  seen.add(cls);
  return cls.baseNames.find((b) => isBatchNormType(b)) ?? cls.bases.map((b) => batchNormBase(b, seen)).find((c) => c !== undefined);
}

/** Whether the class, or an in-file base below the BatchNorm class, defines `method`. */
function definesMethod(cls: ModelClass, method: string, seen = new Set<ModelClass>()): boolean {
  if (seen.has(cls)) return false;
  seen.add(cls);
  return cls.methods.has(method) || cls.bases.some((b) => definesMethod(b, method, seen));
}

/**
 * `MyBN(16)` for `class MyBN(nn.BatchNorm2d)`: a BatchNorm module of the base's kind (its first argument is
 * `num_features`, as the base's), labelled with the subclass's name. Its own `__init__` and `forward` are not
 * followed: to the rules it is a BatchNorm, called as one; the executor runs only subclasses that keep the
 * base's `__init__` and `forward` (`class SyncBN(nn.BatchNorm2d): pass`).
 */
function constructBatchNormSubclass(interp: Interpreter, cls: ModelClass, base: string, args: CallArgs, site: CallSite, text: string): Value {
  const inst = interp.newInstance({
    qualname: base,
    args: args.positional,
    kwargs: args.keywords,
    ctorRange: rangeOf(site.node),
    ctorText: text,
    ownerClass: site.scope.owner,
    definedBy: cls,
    overrides: ["__init__", "forward"].filter((m) => definesMethod(cls, m)),
  });
  return { k: "instance", inst };
}

/** The container class (`nn.Sequential`, …) a user class derives from, directly or through in-file bases. */
export function containerBase(cls: ModelClass, seen = new Set<ModelClass>()): string | undefined {
  if (seen.has(cls)) return undefined;
  seen.add(cls);
  return cls.baseNames.find((b) => CONTAINER_TYPES.has(b)) ?? cls.bases.map((b) => containerBase(b, seen)).find((c) => c !== undefined);
}

/**
 * `super().__init__(...)` in a class deriving from nn.Sequential, nn.ModuleList or nn.ModuleDict (torchvision's
 * `class ASPPConv(nn.Sequential)`, DenseNet's `class _DenseBlock(nn.ModuleDict)`): the instance gets the children
 * the container's constructor would. Undefined for other classes.
 */
function initContainerBase(args: CallArgs, site: CallSite): Value | undefined {
  const self = site.scope.self;
  const container = site.scope.cls ? containerBase(site.scope.cls) : undefined;
  if (!container || self?.k !== "instance") return undefined;
  Object.assign(self.inst, containerChildren(container, args));
  return NONE;
}

/**
 * A module stored on an instance of a container subclass (`self.norm = nn.BatchNorm2d(c)`,
 * `self.add_module("norm", …)`) is registered as its next child, as PyTorch's `__setattr__` does, so the
 * container runs it. Replacing a module already stored makes the order unknown: the children become inexact.
 */
export function registerContainerChild(inst: ModuleInstance, name: string, value: Value, range: SourceRange): void {
  if (!inst.userClass || (!inst.children && !inst.dictChildren)) return;
  const replaced = inst.attrs.get(name)?.k === "instance";
  if (inst.dictChildren) {
    if (value.k === "instance") inst.dictChildren.set(name, { value, range });
    else if (replaced) inst.dictChildren.delete(name);
    return;
  }
  if (replaced) inst.childrenExact = false;
  else if (value.k === "instance") inst.children!.push({ value, range });
}

function deepCopy(interp: Interpreter, v: Value, site: CallSite, depth = 0): Value {
  if (depth > 8) return UNKNOWN;
  if (v.k === "instance") {
    const src = v.inst;
    const attrs = new Map([...src.attrs].map(([k, a]) => [k, deepCopy(interp, a, site, depth + 1)]));
    const copy = interp.newInstance({
      qualname: src.qualname,
      userClass: src.userClass,
      args: src.args,
      kwargs: src.kwargs,
      ctorRange: rangeOf(site.node),
      ctorText: src.ctorText,
      ownerClass: site.scope.owner,
      attrs,
      children: src.children?.map((c) => ({ value: deepCopy(interp, c.value, site, depth + 1), range: c.range })),
      childrenExact: src.childrenExact,
      dictChildren: src.dictChildren ? new Map([...src.dictChildren].map(([k, c]) => [k, { value: deepCopy(interp, c.value, site, depth + 1), range: c.range }])) : undefined,
    });
    return { k: "instance", inst: copy };
  }
  if (v.k === "list") return { k: "list", box: { items: v.box.items.map((i) => ({ value: deepCopy(interp, i.value, site, depth + 1), range: i.range })), exact: v.box.exact } };
  if (v.k === "tuple") return { k: "tuple", items: v.items.map((i) => deepCopy(interp, i, site, depth + 1)) };
  return v;
}

// ───────────────────────────── qualified names ─────────────────────────────

/** torch.nn.modules.utils' tuple helpers (`_triple`), by how many times they repeat a single number. */
const NTUPLE_HELPERS = new Map(
  [["_single", 1], ["_pair", 2], ["_triple", 3], ["_quadruple", 4]].flatMap(([n, k]) => [
    // Imported from `torch.nn.modules.utils`, which canonicalName shortens to `torch.nn`.
    [`torch.nn.${n}`, k as number],
  ]),
) as ReadonlyMap<string, number>;

function callQualname(interp: Interpreter, name: string, args: CallArgs, site: CallSite): Value {
  if (name.startsWith("builtins.")) return callBuiltin(interp, name.slice(9), args, site);
  if (name === "super.__init__") {
    const initialised = initContainerBase(args, site);
    if (initialised) return initialised;
  }
  if (isModuleClassName(name)) {
    return constructLibraryModule(interp, name, args, site, site.calleeNode.text);
  }
  // torch's `_pair(3)` → `(3, 3)`: kernel sizes and strides written as one number (R(2+1)D, many 3-D nets).
  const repeat = NTUPLE_HELPERS.get(name);
  if (repeat !== undefined && args.positional.length === 1 && args.keywords.size === 0) {
    const v = args.positional[0].value;
    if (v.k === "tuple") return v;
    if (v.k === "num" || (v.k === "unknown" && v.sym)) return { k: "tuple", items: Array.from({ length: repeat }, () => v) };
  }
  if (name === "functools.partial") {
    const target = args.positional[0]?.value;
    const rest: CallArgs = { positional: args.positional.slice(1), keywords: args.keywords, spread: args.spread };
    if (target?.k === "factory") {
      return { ...target, boundArgs: [...target.boundArgs, ...rest.positional], boundKwargs: new Map([...target.boundKwargs, ...rest.keywords]), text: target.text };
    }
    if (target?.k === "qualname" && isModuleClassName(target.name)) {
      return { k: "factory", qualname: target.name, boundArgs: rest.positional, boundKwargs: rest.keywords, text: args.positional[0].text };
    }
    escapeArgs(args);
    return UNKNOWN;
  }
  if (name === "copy.deepcopy" || name === "copy.copy") {
    const v = args.positional[0]?.value ?? UNKNOWN;
    return name === "copy.deepcopy" ? deepCopy(interp, v, site) : v;
  }
  if (name === "collections.OrderedDict" || name === "typing.OrderedDict") {
    const src = args.positional[0]?.value;
    if (!src) return { k: "dict", entries: new Map(), exact: true };
    if (src.k === "dict") return { k: "dict", entries: new Map(src.entries), exact: src.exact };
    const list = listItems(src);
    if (list) {
      const entries = new Map<string, ListItem>();
      let exact = list.exact;
      for (const item of list.items) {
        const pair = item.value;
        if (pair.k === "tuple" && pair.items.length === 2 && pair.items[0].k === "str") entries.set(pair.items[0].s, { value: pair.items[1], range: item.range });
        else {
          exact = false;
          escapeValue(pair);
        }
      }
      return { k: "dict", entries, exact };
    }
    escapeArgs(args);
    return UNKNOWN;
  }
  // Telemetry and logging read nothing of a module's structure: the modules passed to them do not escape.
  if (INERT_CALL.test(name)) return UNKNOWN;
  // Models run eagerly: not scripted, traced or exported (`if torch.jit.is_scripting(): ...` is not taken).
  if (EAGER_FALSE_CALL.has(name)) return { k: "bool", b: false };
  if (interp.recording) {
    if (name === "torch.utils.checkpoint.checkpoint" || name.startsWith("torch.utils.checkpoint.")) {
      // checkpoint(fn, *args) runs fn: follow it like a direct call.
      const fn = args.positional[0]?.value;
      if (fn) return callValue(interp, fn, { positional: args.positional.slice(1), keywords: new Map(), spread: args.spread }, site);
    }
    if (name.startsWith("torch.") || name.startsWith("numpy.") || name.startsWith("math.") || name.startsWith("einops.")) {
      const inputs = allArgs(args).flatMap((v) => tensorsIn(v));
      for (const v of allArgs(args)) if (instancesIn(v).length > 0) escapeValue(v);
      if (inputs.length === 0 && !name.startsWith("torch.") && !NUMPY_CONSTANTS.has(name)) return UNKNOWN;
      return { k: "tensor", node: interp.addNode("call_function", name, inputs, rangeOf(site.node), { extra: extraOf(interp, args), calleeRange: rangeOf(site.calleeNode) }) };
    }
    return interp.opaque(name, site.node, allArgs(args));
  }
  if (name.startsWith("math.")) return mathCall(name.slice(5), args);
  escapeArgs(args);
  return UNKNOWN;
}

/** NumPy calls that make a constant array a model turns into a tensor (`torch.from_numpy(np.eye(k))`). */
const NUMPY_CONSTANTS = new Set(["numpy.array", "numpy.asarray", "numpy.eye", "numpy.identity"]);

function mathCall(fn: string, args: CallArgs): Value {
  const xs = args.positional.map((a) => numOf(a.value));
  if (xs.some((x) => x === undefined)) return UNKNOWN;
  const syms = xs as Sym[];
  if (fn === "ceil" || fn === "floor") return { k: "num", sym: symApply(fn, syms, (v) => (fn === "ceil" ? Math.ceil(v[0]) : Math.floor(v[0]))) };
  if (fn === "sqrt") return { k: "num", sym: symApply(fn, syms, (v) => Math.sqrt(v[0])) };
  return UNKNOWN;
}

export function extraOf(interp: Interpreter, args: CallArgs): { args: ExtraArg[]; kwargs: Map<string, ExtraArg> } {
  return {
    args: args.positional.map((a) => interp.extraArgOf(a.value, a.text)),
    kwargs: new Map([...args.keywords].map(([k, a]) => [k, interp.extraArgOf(a.value, a.text)])),
  };
}

// ───────────────────────────── builtins ─────────────────────────────

function callBuiltin(interp: Interpreter, fn: string, args: CallArgs, site: CallSite): Value {
  const p = args.positional.map((a) => a.value);
  switch (fn) {
    case "range": {
      const nums = p.map(numOf);
      if (nums.some((n) => n === undefined) || nums.length === 0) return { k: "range", start: symConst(0), stop: { terms: new Map([["?range", 1]]) }, step: symConst(1) };
      const [a, b, c] = nums as Sym[];
      return nums.length === 1 ? { k: "range", start: symConst(0), stop: a, step: symConst(1) } : { k: "range", start: a, stop: b, step: c ?? symConst(1) };
    }
    case "len": {
      const v = p[0];
      const list = v ? listItems(v) : undefined;
      if (list?.exact) return { k: "num", sym: symConst(list.items.length) };
      if (v?.k === "dict" && v.exact) return { k: "num", sym: symConst(v.entries.size) };
      return UNKNOWN;
    }
    case "int":
    case "round": {
      const n = p[0] ? numOf(p[0]) : undefined;
      if (n) return { k: "num", sym: symInt(n) };
      // `int(x.size(1) * ratio)`: a size the executor computes in each pass.
      const size = fn === "int" && p[0] && isRunTimeSize(p[0]) ? sizeExprOf(p[0]) : undefined;
      return size ? { k: "unknown", why: "size", size: { int: size } } : UNKNOWN;
    }
    case "float":
    case "abs": {
      const n = p[0] ? numOf(p[0]) : undefined;
      if (!n) return UNKNOWN;
      const c = constValue(n);
      return fn === "abs" ? (c !== undefined ? { k: "num", sym: symConst(Math.abs(c)) } : UNKNOWN) : { k: "num", sym: n };
    }
    case "min":
    case "max": {
      const nums = p.map(numOf);
      if (nums.length < 2 || nums.some((n) => n === undefined)) return UNKNOWN;
      return { k: "num", sym: symApply(fn, nums as Sym[], (v) => (fn === "min" ? Math.min(...v) : Math.max(...v))) };
    }
    case "bool": {
      const t = p[0] ? (p[0].k === "bool" ? p[0].b : undefined) : false;
      return t === undefined ? UNKNOWN : { k: "bool", b: t };
    }
    case "str":
      return p[0]?.k === "str" ? p[0] : p[0]?.k === "num" && constValue(p[0].sym) !== undefined ? { k: "str", s: String(constValue(p[0].sym)) } : { k: "unknown", why: "str" };
    case "getattr": {
      const [obj, name, dflt] = p;
      if (obj && name?.k === "str") {
        const v = interp.getAttribute(obj, name.s);
        if (v.k === "method" && obj.k === "instance" && dflt) return dflt;
        return v;
      }
      if (obj?.k === "instance") {
        // A module looked up by a computed name: any of them may run here.
        if (interp.recording) interp.dynamicModuleAccess = true;
        for (const v of obj.inst.attrs.values()) escapeValue(v);
      }
      return UNKNOWN;
    }
    case "setattr": {
      const [obj, name, value] = p;
      if (obj?.k === "instance" && name?.k === "str" && value) {
        obj.inst.attrs.set(name.s, value);
        if (value.k === "instance" && !value.inst.declStatement) value.inst.declStatement = rangeOf(site.node);
      } else if (value) escapeValue(value);
      return NONE;
    }
    case "hasattr": {
      const [obj, name] = p;
      const r = obj?.k === "instance" && name?.k === "str" ? interp.hasAttribute(obj.inst, name.s) : undefined;
      return r === undefined ? UNKNOWN : { k: "bool", b: r };
    }
    case "isinstance": {
      const r = p[0] && p[1] ? isInstanceOf(p[0], p[1]) : undefined;
      return r === undefined ? UNKNOWN : { k: "bool", b: r };
    }
    case "type": {
      // `type(x) == int` (VGG configs of ints and "M"): the builtin type, when bnlint knows it for certain.
      const name = p.length === 1 && p[0] ? builtinTypeOf(p[0]) : undefined;
      return name ? { k: "qualname", name: `builtins.${name}` } : UNKNOWN;
    }
    case "callable":
      return UNKNOWN;
    case "list":
    case "tuple":
    case "sorted":
    case "reversed": {
      if (p.length === 0) return fn === "tuple" ? { k: "tuple", items: [] } : { k: "list", box: { items: [], exact: true } };
      const src = p[0];
      if (src.k === "range") {
        const plan = interp.iterationPlan(src, -1, site.node);
        const items = plan.values.map((value) => ({ value }));
        return { k: "list", box: { items: fn === "reversed" ? items.reverse() : items, exact: plan.count !== "many" } };
      }
      const list = listItems(src);
      if (!list) {
        if (src.k === "dict") return { k: "list", box: { items: [...src.entries.keys()].map((s) => ({ value: { k: "str", s } as Value })), exact: src.exact } };
        escapeValue(src);
        return UNKNOWN;
      }
      const items = fn === "reversed" ? [...list.items].reverse() : [...list.items];
      if (fn === "sorted") return { k: "list", box: { items, exact: false } };
      return fn === "tuple" ? { k: "tuple", items: items.map((i) => i.value) } : { k: "list", box: { items, exact: list.exact } };
    }
    case "dict":
      if (p.length === 0) return { k: "dict", entries: new Map([...args.keywords].map(([k, a]) => [k, { value: a.value, range: a.range }])), exact: !args.spread };
      escapeArgs(args);
      return UNKNOWN;
    case "enumerate": {
      const src = p[0];
      const list = src ? (src.k === "range" ? (() => { const plan = interp.iterationPlan(src, -1, site.node); return { items: plan.values.map((value) => ({ value })), exact: plan.count !== "many" }; })() : listItems(src)) : undefined;
      if (!list) {
        if (src) escapeValue(src);
        return UNKNOWN;
      }
      const items: ListItem[] = list.items.map((it: ListItem, j) => ({ value: { k: "tuple", items: [{ k: "num", sym: symConst(j) }, it.value] } as Value, range: it.range }));
      return { k: "list", box: { items, exact: list.exact } };
    }
    case "zip": {
      const lists = p.map((v) => listItems(v));
      if (lists.some((l) => !l)) {
        escapeArgs(args);
        return UNKNOWN;
      }
      const n = Math.min(...lists.map((l) => l!.items.length));
      const items = Array.from({ length: n }, (_, j) => ({ value: { k: "tuple", items: lists.map((l) => l!.items[j].value) } as Value }));
      return { k: "list", box: { items, exact: lists.every((l) => l!.exact) } };
    }
    case "super": {
      const scope = site.scope;
      let cls = scope.cls;
      if (p[0]?.k === "factory" && p[0].userClass) cls = p[0].userClass;
      if (!cls || !scope.self) return UNKNOWN;
      return { k: "super", self: scope.self, cls };
    }
    case "print":
      return NONE;
    case "sum": {
      const list = p[0] ? listItems(p[0]) : undefined;
      if (interp.recording && list) {
        const inputs = list.items.flatMap((i) => tensorsIn(i.value));
        if (inputs.length > 0) return { k: "tensor", node: interp.addNode("call_function", "builtins.sum", inputs, rangeOf(site.node)) };
      }
      // `sum(nf for _, nf in emb_szs)`: the sum of numbers the analysis knows, from `start` (0).
      const nums = list?.exact ? list.items.map((i) => numOf(i.value)) : undefined;
      const start = p[1] ? numOf(p[1]) : symConst(0);
      if (nums && start && nums.every((n) => n !== undefined) && list!.items.every((i) => i.value.k === "num" || i.value.k === "bool")) {
        return { k: "num", sym: (nums as Sym[]).reduce((a, b) => symAdd(a, b), start) };
      }
      return UNKNOWN;
    }
    default:
      escapeArgs(args);
      return UNKNOWN;
  }
}

// ───────────────────────────── user functions ─────────────────────────────

function callUserFunction(interp: Interpreter, fn: Extract<Value, { k: "function" }>, args: CallArgs, site: CallSite): Value {
  const frame: Frame | undefined = interp.recording ? { range: rangeOf(site.node), description: `${site.calleeNode.text}()` } : undefined;
  return interp.callFunction(fn.def, fn.self, args, { cls: fn.cls, owner: site.scope.owner, frame, closure: fn.closure });
}

// ───────────────────────────── module calls (forward) ─────────────────────────────

export function instanceLabel(inst: ModuleInstance): string {
  if (inst.userClass) return inst.userClass.name;
  return inst.qualname ? shortName(inst.qualname) : "module";
}

/** Runs a module in forward mode: a leaf becomes a call_module node, containers and user modules are expanded. */
export function callModule(interp: Interpreter, inst: ModuleInstance, args: CallArgs, site: CallSite): Value {
  interp.step();
  const range = site.rangeOverride ?? rangeOf(site.node);
  const calleeRange = site.rangeOverride ?? rangeOf(site.calleeNode);
  const frame: Frame = { range, description: `${site.rangeOverride ? (inst.paths[0] ?? site.calleeNode.text) : site.calleeNode.text} (${instanceLabel(inst)})` };
  // A class deriving from nn.Sequential without a forward of its own runs its children in order, as Sequential does.
  const derived = !!inst.userClass && !findMethod(inst.userClass, "forward") && containerBase(inst.userClass) === "torch.nn.Sequential" && !!inst.children;
  if (derived && !inst.childrenExact) {
    markEscaped(inst);
    return interp.opaque(`${inst.userClass!.name} (an nn.Sequential whose children bnlint cannot list)`, site.node, allArgs(args));
  }
  if (inst.qualname === "torch.nn.Sequential" || derived) {
    interp.containersRun.add(inst);
    let value: Value = args.positional[0]?.value ?? UNKNOWN;
    const saved = interp.pos.callStack;
    interp.pos.callStack = [...saved, frame];
    try {
      for (const child of inst.children ?? []) {
        if (child.value.k === "instance") {
          value = callModule(interp, child.value.inst, { positional: [{ value, text: "", range }], keywords: new Map(), spread: false }, { ...site, rangeOverride: child.range ?? range });
        } else {
          value = interp.opaque("unresolved nn.Sequential child", site.node, [value, child.value]);
        }
      }
      // Children bnlint cannot list may follow the known ones (`layers += [nn.Dropout(p)]` under an if).
      if (inst.childrenExact === false) value = interp.opaque("children of an nn.Sequential that bnlint cannot list", site.node, [value]);
    } finally {
      interp.pos.callStack = saved;
    }
    return value;
  }
  if (inst.qualname && CONTAINER_TYPES.has(inst.qualname)) {
    markEscaped(inst);
    return interp.opaque(`call of ${shortName(inst.qualname)}`, site.node, allArgs(args));
  }
  if (inst.userClass) {
    const forward = findMethod(inst.userClass, "forward") ?? findMethod(inst.userClass, "__call__");
    if (!forward) {
      markEscaped(inst);
      return interp.opaque(`${inst.userClass.name} has no forward in this file`, site.node, allArgs(args));
    }
    return interp.callFunction(forward.def, { k: "instance", inst }, args, { cls: forward.cls, owner: inst.userClass, frame });
  }
  for (const v of allArgs(args)) if (instancesIn(v).length > 0) escapeValue(v);
  const inputs = allArgs(args).flatMap((v) => tensorsIn(v));
  const target = inst.paths[0] ?? site.calleeNode.text.replace(/^self\./, "");
  return { k: "tensor", node: interp.addNode("call_module", target, inputs, range, { instance: inst, calleeRange, extra: extraOf(interp, args) }) };
}

// ───────────────────────────── methods ─────────────────────────────

function callMethod(interp: Interpreter, recv: Value, name: string, args: CallArgs, site: CallSite): Value {
  const p = args.positional;
  if (recv.k === "list") {
    const box = recv.box;
    switch (name) {
      case "append":
        if (p[0]) box.items.push({ value: p[0].value, range: p[0].range });
        return NONE;
      case "extend": {
        const list = p[0] ? listItems(p[0].value) : undefined;
        if (list) {
          checkListSize(box.items.length + list.items.length);
          box.items.push(...list.items);
          if (!list.exact) box.exact = false;
        } else {
          if (p[0]) escapeValue(p[0].value);
          box.exact = false;
        }
        return NONE;
      }
      case "insert":
        if (p[1]) box.items.push({ value: p[1].value, range: p[1].range });
        box.exact = false;
        return NONE;
      case "pop":
        box.exact = false;
        return UNKNOWN;
      case "copy":
        return { k: "list", box: { items: [...box.items], exact: box.exact } };
      default:
        escapeArgs(args);
        return UNKNOWN;
    }
  }
  if (recv.k === "dict") {
    switch (name) {
      case "items":
        return { k: "list", box: { items: [...recv.entries].map(([k, item]) => ({ value: { k: "tuple", items: [{ k: "str", s: k }, item.value] } as Value, range: item.range })), exact: recv.exact } };
      case "values":
        return { k: "list", box: { items: [...recv.entries.values()], exact: recv.exact } };
      case "keys":
        return { k: "list", box: { items: [...recv.entries.keys()].map((s) => ({ value: { k: "str", s } as Value })), exact: recv.exact } };
      case "get": {
        const key = p[0]?.value;
        if (key?.k === "str" && recv.entries.has(key.s)) return recv.entries.get(key.s)!.value;
        return p[1]?.value ?? (recv.exact && key?.k === "str" ? NONE : UNKNOWN);
      }
      default:
        escapeArgs(args);
        return UNKNOWN;
    }
  }
  if (recv.k === "tensor") {
    if (!interp.recording) return UNKNOWN;
    // `x.size()` is `x.shape`: `x.size()[3]` is read like `x.shape[3]`.
    if (name === "size" && p.length === 0 && args.keywords.size === 0) return { k: "method", recv, name: "shape" };
    if (name === "size" && p.length === 1 && args.keywords.size === 0) {
      // `x.size(2)`: known when the model runs (`x.size(0)` stays as text: a batch size, read as such).
      const sym = numOf(p[0].value);
      const c = sym ? constValue(sym) : undefined;
      if (c !== undefined && Number.isInteger(c) && c !== 0) return { k: "unknown", why: "size", dims: { node: recv.node, index: c } };
    }
    if (NON_TENSOR_METHODS.has(name)) return UNKNOWN;
    for (const v of allArgs(args)) if (instancesIn(v).length > 0) escapeValue(v);
    const inputs = [recv.node, ...allArgs(args).flatMap((v) => tensorsIn(v))];
    const extra = extraOf(interp, args);
    const inPlace = IN_PLACE_METHOD.test(name);
    if (inPlace && aliasedElsewhere(site, recv.node)) {
      // `identity = x; x.add_(1)`: PyTorch changes the tensor both names hold; the graph's values cannot.
      return interp.opaque(`.${name}() on a tensor another name also holds`, site.node, allArgs(args));
    }
    const result: Value = { k: "tensor", node: interp.addNode("call_method", name, inputs, rangeOf(site.node), { extra: { args: [{ kind: "tensor", node: recv.node }, ...extra.args], kwargs: extra.kwargs }, calleeRange: rangeOf(site.calleeNode) }) };
    // `c.div_(n)` as a statement changes `c`: later reads of the name see the result.
    const receiver = site.calleeNode.childForFieldName("object");
    if (inPlace && receiver?.type === "identifier" && site.scope.env.get(receiver.text) === recv) site.scope.env.set(receiver.text, result);
    return result;
  }
  if (recv.k === "instance") return callInstanceMethod(interp, recv.inst, name, args, site);
  escapeArgs(args);
  if (interp.recording && allArgs(args).some((v) => tensorsIn(v).length > 0)) return interp.opaque(`call of ${site.calleeNode.text}`, site.node, allArgs(args));
  return UNKNOWN;
}

function callInstanceMethod(interp: Interpreter, inst: ModuleInstance, name: string, args: CallArgs, site: CallSite): Value {
  const p = args.positional;
  // Library containers, and instances of Sequential / ModuleList subclasses (their children set by initContainerBase).
  const isList = inst.qualname === "torch.nn.ModuleList" || inst.qualname === "torch.nn.Sequential" || (!!inst.userClass && !!inst.children);
  if (name === "forward" && !inst.userClass) return interp.recording ? callModule(interp, inst, args, site) : UNKNOWN;
  if (inst.userClass && (inst.children || inst.dictChildren) && (name === "add_module" || name === "register_module")) {
    const key = p[0]?.value;
    const value = p[1]?.value;
    if (key?.k === "str" && value) {
      registerContainerChild(inst, key.s, value, rangeOf(site.node));
      inst.attrs.set(key.s, value);
    } else {
      if (value) escapeValue(value);
      if (inst.children) inst.childrenExact = false;
      else inst.dictChildrenExact = false;
    }
    return NONE;
  }
  if (isList && (name === "append" || name === "add_module")) {
    const item = name === "append" ? p[0] : p[1];
    if (item) inst.children?.push({ value: item.value, range: item.range });
    // `seq.add_module("conv0", m)`: PyTorch names the child `conv0` (its state-dict key, `seq.conv0`).
    const key = name === "add_module" ? p[0]?.value : undefined;
    if (item && key?.k === "str" && !inst.attrs.has(key.s)) inst.attrs.set(key.s, item.value);
    return NONE;
  }
  if (isList && name === "extend") {
    const list = p[0] ? listItems(p[0].value) : undefined;
    if (list) {
      checkListSize((inst.children?.length ?? 0) + list.items.length);
      inst.children?.push(...list.items);
      if (!list.exact) inst.childrenExact = false;
    } else if (p[0]) {
      escapeValue(p[0].value);
      inst.childrenExact = false;
    }
    return NONE;
  }
  if (isList && name === "insert") {
    if (p[1]) inst.children?.push({ value: p[1].value, range: p[1].range });
    inst.childrenExact = false;
    return NONE;
  }
  if (inst.dictChildren) {
    if (inst.dictChildrenExact === false && (name === "items" || name === "values" || name === "keys")) {
      // Some children were added under keys bnlint cannot read: which modules run is unknown.
      markEscaped(inst);
      return UNKNOWN;
    }
    const d: Value = { k: "dict", entries: inst.dictChildren, exact: true };
    if (name === "items" || name === "values" || name === "keys") return callMethod(interp, d, name, args, site);
    if (name === "update") {
      const src = p[0]?.value;
      if (src?.k === "dict") for (const [k, v] of src.entries) inst.dictChildren.set(k, v);
      else escapeArgs(args);
      return NONE;
    }
  }
  if (name === "add_module" || name === "register_module") {
    const key = p[0]?.value;
    const value = p[1]?.value;
    if (key?.k === "str" && value) {
      inst.attrs.set(key.s, value);
      if (value.k === "instance" && !value.inst.declStatement) value.inst.declStatement = rangeOf(site.node);
    } else if (value) escapeValue(value);
    if (key?.k !== "str" && interp.recording) interp.dynamicModuleAccess = true;
    return NONE;
  }
  if (DYNAMIC_MODULE_ACCESS_METHODS.has(name)) {
    // Iterating over modules by reflection: any module may run.
    if (interp.recording) interp.dynamicModuleAccess = true;
    else if (name !== "apply" && name !== "modules" && name !== "named_modules") markEscaped(inst);
    if (interp.recording) markEscaped(inst);
    escapeArgs(args);
    return { k: "list", box: { items: [], exact: false } };
  }
  if (PASS_THROUGH_MODULE_METHODS.has(name)) return { k: "instance", inst };
  if (name === "register_buffer" || name === "register_parameter" || name === "parameters" || name === "named_parameters" ||
      name === "buffers" || name === "state_dict" || name === "load_state_dict" || name === "reset_parameters" || name === "zero_grad") {
    return UNKNOWN;
  }
  // An unknown method of a module: it may call the module or its children.
  markEscaped(inst);
  escapeArgs(args);
  if (interp.recording && allArgs(args).some((v) => tensorsIn(v).length > 0)) return interp.opaque(`${site.calleeNode.text}()`, site.node, allArgs(args));
  return UNKNOWN;
}

export { LIMITS };

/** The builtin type of a value whose type is certain (`int` for an integral number: see `isInstanceOf`). */
function builtinTypeOf(v: Value): string | undefined {
  if (v.k === "num") {
    const c = constValue(v.sym);
    return c === undefined ? undefined : Number.isInteger(c) ? "int" : "float";
  }
  return v.k === "str" ? "str" : v.k === "tuple" ? "tuple" : v.k === "list" ? "list" : v.k === "dict" ? "dict" : v.k === "bool" ? "bool" : v.k === "none" ? "NoneType" : undefined;
}

/**
 * `isinstance(v, int)` (or a tuple of builtin types) for values whose Python type is certain: strings, tuples,
 * lists, dicts, booleans, None, and numbers (an integral number counts as an int: bnlint does not keep `3.0`
 * apart from `3`, so whether it is a float stays unknown). Anything else is unknown.
 */
function isInstanceOf(v: Value, types: Value): boolean | undefined {
  const names = (types.k === "tuple" ? types.items : [types]).map((t) => (t.k !== "qualname" ? undefined : t.name.startsWith("builtins.") ? t.name.slice(9) : t.name === "torch.Tensor" ? "Tensor" : undefined));
  if (names.some((n) => n === undefined || !["int", "float", "bool", "str", "tuple", "list", "dict", "Tensor"].includes(n))) return undefined;
  // A tensor is a Tensor and nothing else listed; anything else the interpreter models is not a Tensor.
  if (v.k === "tensor") return names.includes("Tensor");
  if (names.includes("Tensor") && !["str", "tuple", "list", "dict", "none", "bool", "num"].includes(v.k)) return undefined;
  const c = v.k === "num" ? constValue(v.sym) : undefined;
  let unknown = false;
  for (const n of names as string[]) {
    let r: boolean | undefined;
    if (v.k === "str") r = n === "str";
    else if (v.k === "tuple") r = n === "tuple";
    else if (v.k === "list") r = n === "list";
    else if (v.k === "dict") r = n === "dict";
    else if (v.k === "none") r = false;
    else if (v.k === "bool") r = n === "bool" || n === "int";
    else if (n === "Tensor") r = false;
    else if (v.k === "num") r = n === "int" ? (c === undefined ? undefined : Number.isInteger(c) ? true : false) : n === "float" ? (c !== undefined && !Number.isInteger(c) ? true : undefined) : n === "bool" ? false : !["str", "tuple", "list", "dict"].includes(n) ? undefined : false;
    else return undefined;
    if (r === true) return true;
    if (r === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

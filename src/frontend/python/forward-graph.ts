import { findMethod, type ModelClass, type ModelIndex } from "../../model/index-types.js";
import type { ForwardGraph } from "../../model/graph.js";
import type { ModuleInstance, Value } from "../../model/values.js";
import { UNKNOWN } from "../../model/values.js";
import { rangeOf } from "../../model/source.js";
import { Interpreter } from "./interpreter.js";
import { BudgetExceeded, FileBudget, instancesIn, isStackOverflow, tensorsIn } from "./interp-support.js";
import { callModule, containerBase, type CallArgs } from "./calls.js";
import type { SyntaxNode } from "./parser.js";

/** Names every module instance by its attribute paths from the root, as `named_modules()` would. */
function assignPaths(root: ModuleInstance): void {
  // `prefix` is PyTorch's module path (`heads.a.1`), `python` the expression reaching it (`self.heads["a"][1]`).
  const visit = (inst: ModuleInstance, prefix: string, python: string, stack: Set<number>): void => {
    if (stack.has(inst.id)) return;
    stack.add(inst.id);
    const childPath = (name: string): string => (prefix ? `${prefix}.${name}` : name);
    const reach = (v: Value, name: string, pythonChild: string): void => {
      if (v.k === "instance") {
        if (!v.inst.paths.includes(childPath(name))) {
          v.inst.paths.push(childPath(name));
          v.inst.pythonPaths?.push(pythonChild);
        }
        visit(v.inst, childPath(name), pythonChild, stack);
      } else if (v.k === "list" || v.k === "tuple" || v.k === "dict") {
        instancesIn(v).forEach((child, i) => reach({ k: "instance", inst: child }, `${name}.${i}`, `${pythonChild}[${i}]`));
      }
    };
    const attribute = (name: string): string => (/^[A-Za-z_]\w*$/.test(name) ? `${python}.${name}` : `getattr(${python}, ${JSON.stringify(name)})`);
    for (const [name, v] of inst.attrs) reach(v, name, attribute(name));
    inst.children?.forEach((c, i) => reach(c.value, String(i), `${python}[${i}]`));
    for (const [key, c] of inst.dictChildren ?? []) reach(c.value, key, `${python}[${JSON.stringify(key)}]`);
    stack.delete(inst.id);
  };
  visit(root, "", "self", new Set());
}

const NO_ARGS: CallArgs = { positional: [], keywords: new Map(), spread: false };

/**
 * Builds the forward graph of one model class, analysed on its own: `__init__` parameters without a default
 * become symbols (`planes`), those with a default take it, and `forward` is walked with helper methods and
 * submodule forwards inlined.
 */
export function buildForwardGraph(index: ModelIndex, cls: ModelClass, budget = new FileBudget()): ForwardGraph | undefined {
  return buildGraph(index, cls, NO_ARGS, budget);
}

/**
 * The same graph for a concrete instantiation (`Keras_Cifar2(8, 16)`): `initArgs` are bound to `__init__`'s
 * parameters, so constructor arguments and loop counts become numbers; parameters left unbound stay symbols.
 * The executor uses it; rules use `buildForwardGraph`.
 */
export function buildForwardGraphWithArgs(
  index: ModelIndex,
  cls: ModelClass,
  initArgs: CallArgs,
  budget = new FileBudget(),
  argExpressions?: ReadonlyMap<string, SyntaxNode>,
): ForwardGraph | undefined {
  return buildGraph(index, cls, initArgs, budget, argExpressions);
}

function buildGraph(index: ModelIndex, cls: ModelClass, initArgs: CallArgs, budget: FileBudget, argExpressions?: ReadonlyMap<string, SyntaxNode>): ForwardGraph | undefined {
  // An nn.Sequential subclass without a forward of its own runs its children: its graph starts at `__init__`.
  const forward = findMethod(cls, "forward") ?? (containerBase(cls) === "torch.nn.Sequential" ? findMethod(cls, "__init__") : undefined);
  if (!forward) return undefined;
  const runsChildren = forward.def.name === "__init__";
  const interp = new Interpreter(index, budget);
  const root = interp.newInstance({ userClass: cls, args: [], kwargs: new Map(), ctorRange: cls.nameRange, ctorText: cls.name });
  const rootValue: Value = { k: "instance", inst: root };
  const inputs: number[] = [];
  let outputs: number[] = [];
  try {
    const init = findMethod(cls, "__init__");
    if (argExpressions?.size) {
      // Module-valued arguments (`make_layers(CFG)`) are built by this interpreter, owned by the model.
      const keywords = new Map(initArgs.keywords);
      for (const [name, expr] of argExpressions) {
        const arg = keywords.get(name);
        if (arg) keywords.set(name, { ...arg, value: interp.evalExpr(expr, { env: new Map(), returns: [], owner: cls }) });
      }
      initArgs = { ...initArgs, keywords };
    }
    if (init) interp.callFunction(init.def, rootValue, initArgs, { cls: init.cls, owner: cls, paramSymbols: true });
    else {
      const foreign = cls.baseNames.find((b) => !index.classByName.has(b) && b !== "torch.nn.Module");
      if (foreign) {
        interp.incomplete = true;
        interp.notes.push(`\`__init__\` inherited from \`${foreign}\`, which is not in this file`);
      }
    }
    assignPaths(root);
    interp.recording = true;
    const positional: CallArgs["positional"] = [];
    const keywords = new Map<string, CallArgs["positional"][number]>();
    for (const p of runsChildren ? [] : forward.def.params.slice(1)) {
      if (p.kind === "star" || p.kind === "kwstar") continue;
      if (p.defaultNode?.type === "none") {
        // `mask=None`: callers may pass a tensor, so both sides of `if mask is not None` stay possible.
        keywords.set(p.name, { value: UNKNOWN, text: p.name, range: forward.def.nameRange });
        continue;
      }
      if (p.defaultNode) continue; // keeps its default (bindParams evaluates it)
      const id = interp.addNode("input", p.name, [], forward.def.nameRange);
      inputs.push(id);
      const arg = { value: { k: "tensor", node: id } as Value, text: p.name, range: forward.def.nameRange };
      if (p.kind === "keyword") keywords.set(p.name, arg);
      else positional.push(arg);
    }
    let result: Value;
    if (runsChildren) {
      const id = interp.addNode("input", "input", [], cls.nameRange);
      inputs.push(id);
      const name = cls.node.childForFieldName("name") ?? cls.node;
      const input = { value: { k: "tensor", node: id } as Value, text: "input", range: cls.nameRange };
      result = callModule(interp, root, { positional: [input], keywords, spread: false }, { node: name, calleeNode: name, scope: { env: new Map(), returns: [], owner: cls } });
    } else {
      result = interp.callFunction(forward.def, rootValue, { positional, keywords, spread: false }, { cls: forward.cls, owner: cls });
    }
    outputs = tensorsIn(result);
    if (outputs.length > 0) interp.addNode("output", "output", outputs, rangeOf(forward.def.node));
    if (result === UNKNOWN) interp.notes.push("forward returns a value bnlint cannot follow");
  } catch (e) {
    if (!(e instanceof BudgetExceeded) && !isStackOverflow(e)) throw e;
    const what = e instanceof BudgetExceeded ? e.message : "analysis stopped: code nested too deeply for the stack";
    interp.incomplete = true;
    interp.notes.push(`${what}; findings for this model are limited to what was analysed`);
  }
  const instances = interp.createdInstances.filter((i) => i.ownerClass === cls);
  return {
    modelClass: cls,
    forward: forward.def,
    nodes: interp.nodes,
    inputs,
    outputs,
    instances,
    dynamicModuleAccess: interp.dynamicModuleAccess,
    incomplete: interp.incomplete,
    branchConditions: interp.branchConditions,
    containersRun: interp.containersRun,
    notes: interp.notes,
  };
}

/**
 * Script-level analysis of train/eval mode: walks module-level code and top-level functions (not model
 * classes), following which names hold a model that contains BatchNorm, where `.eval()`, `.train(False)` and
 * `.train()` are called, `with torch.no_grad()` blocks, and calls between functions of the same file (each
 * function gets a summary: the mode it leaves each parameter in, and the evaluation calls that depend on the
 * mode its caller passes). A model handed to code the analysis cannot see gets an unknown mode: silence.
 */
import { basename } from "node:path";
import type { SyntaxNode } from "./parser.js";
import { qualifiedNameOf, stringLiteral } from "./indexer.js";
import type { FunctionDef, ModelIndex, ParamDef } from "../../model/index-types.js";
import type { ForwardGraph } from "../../model/graph.js";
import { rangeOf, type SourceRange } from "../../model/source.js";
import type { EvalContext, ScriptAnalysis, TrainModeEvalCall, TrainOrigin } from "../../model/eval-mode.js";
import {
  EVAL_NAME_WORDS, isBatchNormBuilder, isBatchNormBuilderName, isBatchNormHubModel, MODE_NEUTRAL_FUNCTIONS, MODE_NEUTRAL_METHODS, MODE_TRANSPARENT_WRAPPERS,
  NO_GRAD_CONTEXTS, SELF_RETURNING_METHODS, TRAIN_NAME_WORDS,
} from "../../model/builders.js";
import { builderKeepsBatchNorm, classesWrappingBatchNormModels, modelClassesWithBatchNorm, timmModelName } from "./batchnorm-models.js";
import { canonicalName, isBatchNormType } from "../../model/knowledge.js";
import {
  cloneState, ENTRY, EVAL, forgetTrainInEval, hasKind, mayBeEval, mergeStates, modesOf, stateKey, substituteEntry,
  unionModes, UNKNOWN_MODE, type FlowState, type Modes, type TrackedModel,
} from "./mode-state.js";

/** An evaluation call whose mode comes from the caller: resolved at each call of the function in the file. */
interface Pending {
  readonly slot: string;
  readonly tags: Modes;
  readonly hasEntry: boolean;
  readonly call: SourceRange;
  readonly variable: string;
  readonly context: EvalContext;
  readonly callers: readonly SourceRange[];
  /** The evaluation code reads the model as a module-level global (`model` in `def test(loader)`), not a parameter. */
  readonly viaGlobal: boolean;
  /** The function's name, when resolved for a function handed to other code rather than called (`runHandedFunctions`). */
  readonly handedOver?: string;
}

type Returned = { slot: string } | { label: string; modes: Modes; loaded?: SourceRange } | undefined;

interface Summary {
  /** Recursion, or a function the analysis gave up on: calls of it are unknown code. */
  readonly opaque: boolean;
  readonly params: readonly ParamDef[];
  readonly slots: readonly string[];
  readonly exit: ReadonlyMap<string, Modes>;
  readonly pending: readonly Pending[];
  readonly trains: boolean;
  readonly returns: Returned;
}

const OPAQUE: Summary = { opaque: true, params: [], slots: [], exit: new Map(), pending: [], trains: false, returns: undefined };
const MAX_LOOP_PASSES = 4;

/** `evaluate_epoch` → evaluate, epoch; `runInference` → run, inference; `validate2` → validate. */
function nameWords(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/[_\d]+/).filter(Boolean);
}

function isTestFile(filePath: string): boolean {
  return /^test_.*\.py$|_test\.py$|^conftest\.py$/.test(basename(filePath));
}

/** A pytest test: it calls models in training mode on purpose (shape checks, gradient checks). */
function isPytestTest(def: FunctionDef, filePath: string): boolean {
  return /^test_/.test(def.name) && (isTestFile(filePath) || def.body.descendantsOfType("assert_statement").length > 0);
}

/** Evaluation code by name (`test`, `evaluate`, `run_inference`), but not a train-and-eval function. */
function evalNameContext(def: FunctionDef): EvalContext | undefined {
  const words = nameWords(def.name);
  if (!words.some((w) => EVAL_NAME_WORDS.has(w)) || words.some((w) => TRAIN_NAME_WORDS.has(w))) return undefined;
  return { kind: "function", label: def.name, range: def.nameRange };
}

/** Names of held-out data: `test_loader`, `testloader`, `val_dl`, `valid_data`, `x_test`, `loaders["val"]`. */
const EVAL_DATA_NAME = /(?:^|[^a-z])(?:test|val|valid|validation|eval|dev)_?(?:loader|dataloader|dl|data|dataset|set|ds|batches)?(?:[^a-z]|$)|(?:loader|dataloader|dl)_?(?:test|val|valid|eval|dev)(?:[^a-z]|$)/i;
/** What reading these on an output learns is its size or type, never its values: the same in either mode. */
const SIZE_ATTRIBUTES = new Set(["shape", "size", "dtype", "device", "ndim", "dim", "numel"]);

function isSizeRead(use: SyntaxNode): boolean {
  const parent = use.parent;
  return parent?.type === "attribute" && parent.childForFieldName("object")?.id === use.id && SIZE_ATTRIBUTES.has(parent.childForFieldName("attribute")?.text ?? "");
}

/**
 * A call whose output only has its size read: `print(model(x).shape)`, or `out = model(x)` and then only
 * `out.shape` / `out.size()` (a shape smoke test after loading pretrained weights). Training mode changes the
 * values, not the sizes.
 */
function onlySizeRead(call: SyntaxNode): boolean {
  if (isSizeRead(call)) return true;
  const parent = call.parent;
  const left = parent?.type === "assignment" && parent.childForFieldName("right")?.id === call.id ? parent.childForFieldName("left") : undefined;
  if (left?.type !== "identifier") return false;
  let scope: SyntaxNode = parent!;
  while (scope.parent && scope.type !== "function_definition") scope = scope.parent;
  const uses = scope.descendantsOfType("identifier").filter((id): id is SyntaxNode => !!id && id.text === left.text && id.startIndex > parent!.endIndex);
  return uses.length > 0 && uses.every(isSizeRead);
}

const LOOP_STATEMENTS = new Set(["for_statement", "while_statement", "function_definition", "class_definition", "decorated_definition"]);
/** Wrappers a data loader is iterated through: `enumerate(test_loader)`, `tqdm(val_loader)`. */
const ITERATION_WRAPPERS = new Set(["enumerate", "tqdm", "iter", "tqdm.tqdm", "tqdm.auto.tqdm"]);

/** The held-out data a `for` loop iterates over, by its name (a name, attribute or subscript; not a call's result). */
function evalDataName(iterable: SyntaxNode, constants: ReadonlyMap<string, string>): { node: SyntaxNode; label: string; phase?: string } | undefined {
  let node = iterable;
  if (node.type === "call" && ITERATION_WRAPPERS.has(node.childForFieldName("function")?.text ?? "")) {
    const first = node.childForFieldName("arguments")?.namedChildren.find((a) => a && a.type !== "comment" && a.type !== "keyword_argument");
    if (!first) return undefined;
    node = first;
  }
  if (!["identifier", "attribute", "subscript"].includes(node.type)) return undefined;
  // `dataloaders[phase]` in the `"val"` pass of `for phase in ["train", "val"]` is `dataloaders["val"]`.
  const key = node.type === "subscript" ? node.childForFieldName("subscript") : undefined;
  const value = key?.type === "identifier" ? constants.get(key.text) : undefined;
  const label = value !== undefined ? `${node.childForFieldName("value")!.text}["${value}"]` : node.text;
  if (!EVAL_DATA_NAME.test(label)) return undefined;
  return { node, label: node.text, phase: value !== undefined ? `${key!.text} = "${value}"` : undefined };
}

/**
 * After `model.training = False` (until `= True`), the author means to evaluate: calls of that model are
 * evaluation code, whatever the function is called (a dev-set accuracy inside `train_plot`).
 */
function flagContext(modes: Modes): EvalContext | undefined {
  for (const t of modes.values()) {
    if (t.origin?.kind === "flag") return { kind: "training_flag", label: t.origin.text, range: t.origin.range };
  }
  return undefined;
}

/** `for phase in ["train", "val"]`: the loop variable and its string values, when the list is written out. */
function phaseLoop(node: SyntaxNode): { name: string; values: string[] } | undefined {
  const target = node.childForFieldName("left");
  const iterable = node.childForFieldName("right");
  if (target?.type !== "identifier" || (iterable?.type !== "list" && iterable?.type !== "tuple")) return undefined;
  const items = iterable.namedChildren.filter((c) => c.type !== "comment");
  const values = items.map((c) => stringValue(c));
  if (items.length === 0 || items.length > MAX_PHASES || values.some((v) => v === undefined)) return undefined;
  return { name: target.text, values: values as string[] };
}

/** Phases unrolled at most: train, val, test and a few more. */
const MAX_PHASES = 6;

/** A string literal that is one word (`"train"`, `"val"`). */
function stringValue(node: SyntaxNode): string | undefined {
  const s = stringLiteral(node);
  return s !== undefined && /^\w+$/.test(s) ? s : undefined;
}

/** `phase == "train"`, `phase != "val"`, `phase in ("val", "test")` under known constants; undefined otherwise. */
function decideCondition(cond: SyntaxNode, constants: ReadonlyMap<string, string>): boolean | undefined {
  if (constants.size === 0) return undefined;
  if (cond.type === "parenthesized_expression" && cond.namedChildren.length === 1) return decideCondition(cond.namedChildren[0], constants);
  if (cond.type === "not_operator") {
    const inner = cond.childForFieldName("argument");
    const v = inner ? decideCondition(inner, constants) : undefined;
    return v === undefined ? undefined : !v;
  }
  if (cond.type !== "comparison_operator") return undefined;
  const [left, right] = cond.namedChildren;
  const op = cond.text.slice(left.endIndex - cond.startIndex, right.startIndex - cond.startIndex).trim().replace(/\s+/g, " ");
  const known = left.type === "identifier" ? constants.get(left.text) : undefined;
  if (known === undefined || cond.namedChildren.length !== 2) return undefined;
  if (op === "==" || op === "!=") {
    const other = stringValue(right);
    return other === undefined ? undefined : (known === other) === (op === "==");
  }
  if ((op === "in" || op === "not in") && (right.type === "tuple" || right.type === "list")) {
    const others = right.namedChildren.map(stringValue);
    if (others.some((o) => o === undefined)) return undefined;
    return others.includes(known) === (op === "in");
  }
  return undefined;
}

const NESTED_SCOPES = new Set(["function_definition", "class_definition", "decorated_definition", "lambda"]);

/** Descendants of `node` of the given types, not entering nested functions, classes and lambdas. */
function ownDescendants(node: SyntaxNode, types: ReadonlySet<string>): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const visit = (n: SyntaxNode): void => {
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (types.has(c.type)) out.push(c);
      if (!NESTED_SCOPES.has(c.type)) visit(c);
    }
  };
  visit(node);
  return out;
}

function boundNames(target: SyntaxNode): string[] {
  if (target.type === "identifier") return [target.text];
  if (["pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "parenthesized_expression"].includes(target.type)) {
    return target.namedChildren.flatMap((c) => (c ? boundNames(c) : []));
  }
  return [];
}

function locallyAssigned(body: SyntaxNode): Set<string> {
  const names = new Set<string>();
  for (const n of ownDescendants(body, new Set(["assignment", "augmented_assignment", "for_statement", "as_pattern_target"]))) {
    const target = n.type === "as_pattern_target" ? n.namedChildren[0] : n.childForFieldName("left");
    if (target) for (const name of boundNames(target)) names.add(name);
  }
  return names;
}

function isTrainingStep(call: SyntaxNode): boolean {
  const fn = call.childForFieldName("function");
  if (fn?.type !== "attribute") return false;
  const method = fn.childForFieldName("attribute")?.text;
  const recv = fn.childForFieldName("object")?.text ?? "";
  return method === "backward" || (method === "step" && /optim|opt\b|^opt|scaler/i.test(recv));
}

/** The model name of `torch.hub.load("pytorch/vision:…", "resnet18", …)` when it is a torchvision builder with BatchNorm. */
function hubModelName(parts: CallParts): string | undefined {
  const repo = stringLiteral(parts.positional[0] ?? parts.keywords.get("repo_or_dir"));
  const model = stringLiteral(parts.positional[1] ?? parts.keywords.get("model"));
  return repo !== undefined && model !== undefined && isBatchNormHubModel(repo, model) ? model : undefined;
}

/** The name of `torchvision.models.get_model("resnet50", ...)` when it is a builder with BatchNorm. */
function registeredModelName(parts: CallParts): string | undefined {
  const name = stringLiteral(parts.positional[0] ?? parts.keywords.get("name"));
  return name !== undefined && isBatchNormBuilderName(name) ? name : undefined;
}

function literalBool(node: SyntaxNode | undefined): boolean | undefined {
  if (node?.type === "true") return true;
  if (node?.type === "false") return false;
  return undefined;
}

interface CallParts {
  positional: SyntaxNode[];
  keywords: Map<string, SyntaxNode>;
  spread: boolean;
}

function callParts(call: SyntaxNode): CallParts {
  const parts: CallParts = { positional: [], keywords: new Map(), spread: false };
  const list = call.childForFieldName("arguments");
  for (const a of list?.type === "argument_list" ? list.namedChildren : []) {
    if (!a || a.type === "comment") continue;
    if (a.type === "keyword_argument") {
      const name = a.childForFieldName("name");
      const value = a.childForFieldName("value");
      if (name && value) parts.keywords.set(name.text, value);
    } else if (a.type === "list_splat" || a.type === "dictionary_splat") parts.spread = true;
    else parts.positional.push(a);
  }
  if (list && list.type !== "argument_list") parts.positional.push(list); // a generator argument
  return parts;
}

/** Shared by every unit of one file: class facts, function summaries, findings. */
class ScriptContext {
  readonly summaries = new Map<FunctionDef, Summary>();
  private readonly inProgress = new Set<FunctionDef>();
  readonly findings = new Map<number, TrainModeEvalCall>();

  constructor(readonly index: ModelIndex, readonly bnClasses: ReadonlySet<string>) {}

  summaryOf(def: FunctionDef): Summary {
    const done = this.summaries.get(def);
    if (done) return done;
    if (this.inProgress.has(def)) return OPAQUE;
    this.inProgress.add(def);
    try {
      const summary = new UnitWalker(this, def).summarize();
      this.summaries.set(def, summary);
      return summary;
    } finally {
      this.inProgress.delete(def);
    }
  }

  addFinding(f: TrainModeEvalCall): void {
    if (!this.findings.has(f.call.startIndex)) this.findings.set(f.call.startIndex, f);
  }
}

/** Walks one unit (a function, or the module-level statements) over the mode lattice. */
class UnitWalker {
  private readonly objects: TrackedModel[] = [];
  private readonly loopStack: number[] = [];
  private context: EvalContext | undefined;
  private readonly unitTrains: boolean;
  private readonly pending = new Map<string, Pending>();
  /** Findings of this unit, by call; loop bodies are walked several times and the last (fixpoint) pass wins. */
  private readonly local = new Map<string, TrainModeEvalCall | undefined>();
  /** The call a bare expression statement makes, whose value nobody reads (tree-sitter node id). */
  private discardedCall: number | undefined;
  private exitState: FlowState | undefined;
  private readonly returned: (number | undefined)[] = [];
  private returnedModes: Modes = new Map();
  private returnedLoaded: SourceRange | undefined;

  /** pytest tests are never evaluation code. */
  private readonly noEvalCode: boolean;
  /** Loop variables of an unrolled `for phase in ["train", "val"]`, with this pass's value. */
  private readonly constants = new Map<string, string>();

  constructor(private readonly ctx: ScriptContext, private readonly def?: FunctionDef) {
    this.unitTrains = this.scanTrains(def ? def.body : ctx.index.tree.rootNode);
    this.noEvalCode = def !== undefined && isPytestTest(def, ctx.index.filePath);
    // A function that trains is not evaluation code by its name alone (`run_eval` that fine-tunes first).
    this.context = def && !this.unitTrains && !this.noEvalCode ? evalNameContext(def) : undefined;
  }

  private scanTrains(root: SyntaxNode): boolean {
    for (const call of ownDescendants(root, new Set(["call"]))) {
      if (this.inSkippedArm(call, root)) continue;
      if (isTrainingStep(call)) return true;
      const fn = call.childForFieldName("function");
      const callee = fn?.type === "identifier" ? this.ctx.index.functions.get(fn.text) : undefined;
      if (callee && callee !== this.def && this.ctx.summaryOf(callee).trains) return true;
    }
    return false;
  }

  /** In this pass of a phase loop, `node` sits in an if/else arm that does not run (`if phase == "train":`). */
  private inSkippedArm(node: SyntaxNode, root: SyntaxNode): boolean {
    if (this.constants.size === 0) return false;
    for (let n: SyntaxNode | null = node; n && n !== root; n = n.parent) {
      const parent = n.parent;
      if (parent?.type === "if_statement" && n.fieldName === "consequence") {
        if (decideCondition(parent.childForFieldName("condition")!, this.constants) === false) return true;
      } else if (n.type === "else_clause" && parent?.type === "if_statement") {
        if (decideCondition(parent.childForFieldName("condition")!, this.constants) === true) return true;
      }
    }
    return false;
  }

  // ───────────── units ─────────────

  summarize(): Summary {
    const def = this.def!;
    const state: FlowState = { vars: new Map(), modes: new Map(), trainedLoops: new Set() };
    const slots: string[] = [];
    const addSlot = (name: string, slot: string): void => {
      const obj = this.newObject(state, { slot }, ENTRY);
      state.vars.set(name, obj);
      slots.push(slot);
    };
    const params = def.params.filter((p) => p.kind === "positional" || p.kind === "keyword");
    for (const p of params) addSlot(p.name, `param:${p.name}`);
    const local = locallyAssigned(def.body);
    for (const name of this.ctx.index.globals.keys()) {
      if (!local.has(name) && !params.some((p) => p.name === name)) addSlot(name, `global:${name}`);
    }
    const end = mergeStates(this.walkBlock(def.body, state), this.exitState);
    this.flush();
    const exit = new Map<string, Modes>();
    for (const obj of this.objects) {
      if (obj.slot) exit.set(obj.slot, end ? forgetTrainInEval(end.modes.get(obj.id) ?? UNKNOWN_MODE) : UNKNOWN_MODE);
    }
    return {
      opaque: false,
      params: def.params,
      slots,
      exit,
      pending: [...this.pending.values()],
      trains: this.unitTrains,
      returns: this.returnSummary(),
    };
  }

  walkModule(): void {
    const state: FlowState = { vars: new Map(), modes: new Map(), trainedLoops: new Set() };
    const end = this.walkBlock(this.ctx.index.tree.rootNode, state);
    if (end) this.runHandedFunctions(end);
    this.flush();
  }

  /**
   * Functions the file never calls but hands to other code (`gr.Interface(fn=predict)`, `@app.route("/")`): a
   * server or a UI runs them after the module's code, with the module-level models as that code leaves them.
   */
  private runHandedFunctions(end: FlowState): void {
    // Only functions with evaluation code that reads a module-level model can matter.
    const candidates = [...this.ctx.index.functions.values()].filter((def) => {
      const summary = this.ctx.summaryOf(def);
      return !summary.opaque && summary.pending.some((p) => p.slot.startsWith("global:"));
    });
    if (candidates.length === 0) return;
    for (const { def, site } of handedFunctions(this.ctx.index, candidates)) {
      const summary = this.ctx.summaryOf(def);
      for (const p of summary.pending) {
        if (!p.slot.startsWith("global:")) continue;
        this.resolvePending({ ...p, handedOver: def.name }, end.vars.get(p.slot.slice("global:".length)), site, end);
      }
    }
  }

  private returnSummary(): Returned {
    if (this.returned.length === 0 || this.returned.some((id) => id === undefined)) return undefined;
    const objs = new Set(this.returned.map((id) => this.objects[id!]));
    if (objs.size !== 1) return undefined;
    const [obj] = objs;
    if (obj.slot) return { slot: obj.slot };
    return obj.label ? { label: obj.label, modes: forgetTrainInEval(this.returnedModes), loaded: this.returnedLoaded } : undefined;
  }

  private flush(): void {
    for (const f of this.local.values()) if (f) this.ctx.addFinding(f);
  }

  private newObject(state: FlowState, init: { label?: string; slot?: string }, modes: Modes): number {
    const obj: TrackedModel = { id: this.objects.length, ...init, escaped: false };
    this.objects.push(obj);
    state.modes.set(obj.id, modes);
    return obj.id;
  }

  // ───────────── statements ─────────────

  private walkBlock(block: SyntaxNode, state: FlowState | undefined): FlowState | undefined {
    let s = state;
    for (const stmt of block.namedChildren) {
      if (!s) return undefined;
      if (stmt) s = this.walkStmt(stmt, s);
    }
    return s;
  }

  private walkStmt(node: SyntaxNode, s: FlowState): FlowState | undefined {
    switch (node.type) {
      case "expression_statement":
        for (const c of node.namedChildren) if (c) this.statementExpr(c, s);
        return s;
      case "return_statement": {
        const value = node.namedChildren[0];
        const id = value ? this.expr(value, s) : undefined;
        this.returned.push(id);
        if (id !== undefined) {
          this.returnedModes = unionModes(this.returnedModes, s.modes.get(id) ?? new Map());
          this.returnedLoaded ??= s.loaded;
        }
        this.exitState = mergeStates(this.exitState, s);
        return undefined;
      }
      case "raise_statement":
        return undefined;
      case "if_statement":
        return this.walkIf(node, s);
      case "for_statement":
      case "while_statement":
        return this.walkLoop(node, s);
      case "with_statement":
        return this.walkWith(node, s);
      case "try_statement":
        return this.walkTry(node, s);
      case "function_definition":
      case "class_definition":
      case "decorated_definition":
        // Top-level definitions are units of their own; a nested one may switch a model whenever it runs.
        if (this.def) this.escapeCaptured(node, s);
        return s;
      case "import_statement":
      case "import_from_statement":
      case "pass_statement":
      case "break_statement":
      case "continue_statement":
      case "comment":
        return s;
      default: {
        // Anything else (match, del, global, assert…): its expressions run, its blocks may or may not.
        let out: FlowState | undefined = s;
        for (const c of node.namedChildren) {
          if (!c) continue;
          if (c.type === "block") out = mergeStates(out, this.walkBlock(c, cloneState(s)));
          else if (out) this.statementExpr(c, out);
        }
        return out;
      }
    }
  }

  private walkIf(node: SyntaxNode, s: FlowState): FlowState | undefined {
    const cond = node.childForFieldName("condition");
    const decided = cond ? decideCondition(cond, this.constants) : undefined;
    if (decided === true) return this.walkBlock(node.childForFieldName("consequence")!, s);
    if (decided === false) {
      // The arms after this one, as an if/else of their own: the first elif becomes the `if`.
      const [first, ...rest] = node.childrenForFieldName("alternative").filter((a): a is SyntaxNode => !!a);
      if (!first) return s;
      if (first.type === "else_clause") return this.walkBlock(first.childForFieldName("body")!, s);
      return this.walkArms(first, rest, s);
    }
    if (cond) this.expr(cond, s);
    let out = this.walkBlock(node.childForFieldName("consequence")!, cloneState(s));
    // `if pretrained: model.load_state_dict(...)` on a parameter whose default is off: the summary serves every
    // call, and a call with the default loads nothing (a builder's `__main__` smoke test), so the load does not
    // count after the if. (A call passing `pretrained=True` is then not known to load either.)
    if (out && !s.loaded && out.loaded && cond && this.offByDefault(cond)) out = { ...out, loaded: undefined };
    let hasElse = false;
    for (const alt of node.childrenForFieldName("alternative")) {
      if (!alt) continue;
      if (alt.type === "else_clause") {
        hasElse = true;
        out = mergeStates(out, this.walkBlock(alt.childForFieldName("body")!, cloneState(s)));
      } else {
        const c = alt.childForFieldName("condition");
        if (c) this.expr(c, s);
        out = mergeStates(out, this.walkBlock(alt.childForFieldName("consequence")!, cloneState(s)));
      }
    }
    return hasElse ? out : mergeStates(out, s);
  }

  /** `pretrained`, a parameter of this function whose default is `False` or `None`. */
  private offByDefault(cond: SyntaxNode): boolean {
    if (cond.type !== "identifier" || !this.def) return false;
    const param = this.def.params.find((p) => p.name === cond.text);
    return param?.defaultNode !== undefined && ["False", "None", "0"].includes(param.defaultNode.text);
  }

  /** An `elif` and the arms after it, decided as walkIf decides an if statement. */
  private walkArms(elif: SyntaxNode, rest: SyntaxNode[], s: FlowState): FlowState | undefined {
    const cond = elif.childForFieldName("condition");
    const decided = cond ? decideCondition(cond, this.constants) : undefined;
    const next = (): FlowState | undefined => {
      const [first, ...more] = rest;
      if (!first) return s;
      return first.type === "else_clause" ? this.walkBlock(first.childForFieldName("body")!, cloneState(s)) : this.walkArms(first, more, cloneState(s));
    };
    if (decided === true) return this.walkBlock(elif.childForFieldName("consequence")!, s);
    if (decided === false) return next();
    if (cond) this.expr(cond, s);
    const taken = this.walkBlock(elif.childForFieldName("consequence")!, cloneState(s));
    return mergeStates(taken, next());
  }

  /** Walks the body until the state at its head stops changing (it may run zero or more times). */
  private walkLoop(node: SyntaxNode, s: FlowState): FlowState | undefined {
    const iterable = node.childForFieldName(node.type === "for_statement" ? "right" : "condition");
    if (iterable) this.escapeIf(this.expr(iterable, s), s); // `for m in model.modules()` or `for layer in model`
    const target = node.childForFieldName("left");
    const body = node.childForFieldName("body")!;
    const phases = node.type === "for_statement" ? phaseLoop(node) : undefined;
    if (phases && !this.constants.has(phases.name)) return this.walkPhases(node, phases, s);
    const saved = this.context;
    // A loop over held-out data (`for x, y in test_loader`) after training or loading, that does not train.
    const data = node.type === "for_statement" && iterable ? evalDataName(iterable, this.constants) : undefined;
    if (data && !this.context && !this.noEvalCode && (this.afterTraining(s) || s.loaded) && !this.scanTrains(body)) {
      this.context = { kind: "eval_loop", label: data.label, range: rangeOf(data.node), after: this.afterTraining(s) ? "training" : "loading", phase: data.phase };
    }
    this.loopStack.push(node.startIndex);
    let head: FlowState = cloneState(s);
    for (let pass = 0; pass < MAX_LOOP_PASSES; pass++) {
      const start = cloneState(head);
      for (const name of target ? boundNames(target) : []) start.vars.delete(name);
      const next = mergeStates(s, this.walkBlock(body, start))!;
      if (stateKey(next) === stateKey(head)) break;
      head = next;
    }
    this.loopStack.pop();
    this.context = saved;
    const elseBody = node.childForFieldName("alternative")?.childForFieldName("body");
    return elseBody ? this.walkBlock(elseBody, head) : head;
  }

  /**
   * `for phase in ["train", "val"]:` (the fine-tuning tutorial's loop): the body once per phase, in order, with
   * `phase` known, so `if phase == "train": model.train()` and `dataloaders[phase]` are decided in each pass.
   */
  private walkPhases(node: SyntaxNode, phases: { name: string; values: string[] }, s: FlowState): FlowState | undefined {
    const body = node.childForFieldName("body")!;
    let state: FlowState | undefined = s;
    for (const value of phases.values) {
      if (!state) break;
      this.constants.set(phases.name, value);
      try {
        state = this.walkBlock(body, state);
      } finally {
        this.constants.delete(phases.name);
      }
    }
    const elseBody = node.childForFieldName("alternative")?.childForFieldName("body");
    return elseBody && state ? this.walkBlock(elseBody, state) : state;
  }

  private walkWith(node: SyntaxNode, s: FlowState): FlowState | undefined {
    let noGrad: SyntaxNode | undefined;
    const clause = node.namedChildren.find((c) => c?.type === "with_clause");
    for (const item of clause?.namedChildren ?? []) {
      const raw = item?.type === "with_item" ? item.childForFieldName("value") : undefined;
      const value = raw?.type === "as_pattern" ? raw.namedChildren[0] : raw;
      if (!value) continue;
      if (this.isNoGrad(value)) noGrad = value;
      else this.escapeIf(this.expr(value, s), s);
    }
    const saved = this.context;
    if (noGrad && !this.context && !this.noEvalCode && (this.afterTraining(s) || s.loaded)) {
      this.context = { kind: "no_grad", label: noGrad.text, range: rangeOf(noGrad), after: this.afterTraining(s) ? "training" : "loading" };
    }
    const out = this.walkBlock(node.childForFieldName("body")!, s);
    this.context = saved;
    return out;
  }

  private isNoGrad(value: SyntaxNode): boolean {
    if (value.type !== "call") return false;
    const fn = value.childForFieldName("function");
    const q = fn ? qualifiedNameOf(fn, this.ctx.index.imports) : undefined;
    if (q && NO_GRAD_CONTEXTS.has(q)) return true;
    if (q === "torch.set_grad_enabled") return literalBool(callParts(value).positional[0]) === false;
    return false;
  }

  /** Training happened before, and not in a loop that also encloses this point (a GAN's sampling, BYOL's target). */
  /**
   * A call of the model on held-out data by name (`net(val_data)`, `model(X_test)`) once training has run or
   * weights are loaded, also inside the training loop (a validation accuracy every 50 steps), in a block that
   * does not itself train (`loss = crit(net(val_x), val_y); loss.backward()` fine-tunes on it).
   */
  private heldOutCall(call: SyntaxNode, s: FlowState): EvalContext | undefined {
    if (this.noEvalCode || (s.trainedLoops.size === 0 && !s.loaded)) return undefined;
    const arg = callParts(call).positional[0];
    if (!arg || !["identifier", "attribute", "subscript"].includes(arg.type) || !EVAL_DATA_NAME.test(arg.text)) return undefined;
    let statement: SyntaxNode = call;
    while (statement.parent && statement.parent.type !== "block" && statement.parent.type !== "module") statement = statement.parent;
    const block = statement.parent;
    if (!block) return undefined;
    // Training steps written in this block (not in a loop nested in it, such as the epoch's training loop).
    const trainsHere = block.namedChildren.some((stmt) => stmt && !LOOP_STATEMENTS.has(stmt.type) && ownDescendants(stmt, new Set(["call"])).some((c) => isTrainingStep(c)));
    if (trainsHere) return undefined;
    return { kind: "held_out_call", label: arg.text, range: rangeOf(arg), after: s.trainedLoops.size > 0 ? "training" : "loading" };
  }

  private afterTraining(s: FlowState): boolean {
    return [...s.trainedLoops].some((loop) => !this.loopStack.includes(loop));
  }

  private walkTry(node: SyntaxNode, s: FlowState): FlowState | undefined {
    const body = this.walkBlock(node.childForFieldName("body")!, cloneState(s));
    let out = body;
    const start = mergeStates(s, body)!;
    let fin: SyntaxNode | undefined;
    for (const c of node.namedChildren) {
      if (!c) continue;
      if (c.type === "except_clause" || c.type === "except_group_clause") {
        const block = c.namedChildren.find((x) => x?.type === "block");
        if (block) out = mergeStates(out, this.walkBlock(block, cloneState(start)));
      } else if (c.type === "else_clause" && body) {
        out = mergeStates(out, this.walkBlock(c.childForFieldName("body")!, cloneState(body)));
      } else if (c.type === "finally_clause") fin = c.namedChildren.find((x) => x?.type === "block") ?? undefined;
    }
    return fin && out ? this.walkBlock(fin, out) : out;
  }

  // ───────────── expressions ─────────────

  private statementExpr(node: SyntaxNode, s: FlowState): void {
    if (node.type === "assignment") {
      const right = node.childForFieldName("right");
      const left = node.childForFieldName("left");
      const id = right ? this.expr(right, s) : undefined;
      if (left) this.assign(left, id, s, node);
      return;
    }
    if (node.type === "augmented_assignment") {
      const right = node.childForFieldName("right");
      this.escapeIf(right ? this.expr(right, s) : undefined, s);
      return;
    }
    // A bare expression's value is dropped: `model.eval()` returns the model to nobody, and a forward pass
    // whose output nobody reads runs for its side effect on the running statistics (AdaBN, BatchNorm
    // recalibration after pruning or SWA, warm-up before timing), which is what training mode is for.
    this.discardedCall = node.type === "call" ? node.id : undefined;
    this.expr(node, s);
    this.discardedCall = undefined;
  }

  private assign(left: SyntaxNode, id: number | undefined, s: FlowState, statement?: SyntaxNode): void {
    if (left.type === "identifier") {
      if (id === undefined) s.vars.delete(left.text);
      else s.vars.set(left.text, id);
      return;
    }
    for (const name of boundNames(left)) s.vars.delete(name);
    if (left.type === "attribute") {
      const owner = this.expr(left.childForFieldName("object")!, s);
      if (owner !== undefined && left.childForFieldName("attribute")?.text === "training") this.assignTrainingFlag(owner, statement, s);
    } else if (left.type === "subscript") this.expr(left, s);
    this.escapeIf(id, s); // stored in an object, a list or a tuple: followed no further
  }

  /**
   * `model.training = False` sets the flag of that module alone: its BatchNorm layers keep their mode (only
   * `.eval()`/`.train(False)` reach submodules). The mode set is unchanged; a model still in training mode
   * remembers the assignment, which the finding names.
   */
  private assignTrainingFlag(owner: number, statement: SyntaxNode | undefined, s: FlowState): void {
    const modes = s.modes.get(owner);
    const right = statement?.childForFieldName("right")?.type;
    if (modes && right === "true") {
      // `model.training = True` ends the stretch the `= False` marked as evaluation (`flagContext`).
      s.modes.set(owner, new Map([...modes].filter(([, t]) => t.origin?.kind !== "flag")));
      return;
    }
    if (!modes || !statement || right !== "false") return;
    if (!hasKind(modes, "train") && !hasKind(modes, "trainInEval")) return;
    s.modes.set(owner, unionModes(modes, modesOf({ kind: "train", origin: { kind: "flag", range: rangeOf(statement), text: statement.text } })));
  }

  /** Evaluates `node` for its effects; returns the tracked model it evaluates to, if any. */
  private expr(node: SyntaxNode, s: FlowState): number | undefined {
    switch (node.type) {
      case "identifier":
        return s.vars.get(node.text);
      case "parenthesized_expression": {
        const inner = node.namedChildren.find((c) => c && c.type !== "comment");
        return inner ? this.expr(inner, s) : undefined;
      }
      case "call":
        return this.call(node, s);
      case "attribute":
        this.expr(node.childForFieldName("object")!, s);
        return undefined;
      case "lambda":
        this.escapeCaptured(node, s);
        return undefined;
      case "boolean_operator":
      case "conditional_expression": {
        // `model or default`: which one is unknown, so neither is followed further.
        for (const c of node.namedChildren) if (c) this.escapeIf(this.expr(c, s), s);
        return undefined;
      }
      case "comparison_operator":
      case "not_operator":
        for (const c of node.namedChildren) if (c) this.expr(c, s);
        return undefined;
      default:
        for (const c of node.namedChildren) if (c) this.escapeIf(this.expr(c, s), s);
        return undefined;
    }
  }

  private escapeIf(id: number | undefined, s: FlowState): void {
    if (id === undefined) return;
    this.objects[id].escaped = true;
    s.modes.set(id, UNKNOWN_MODE);
  }

  /** Code bnlint cannot see ran: models it may hold (escaped ones) may be in any mode now. */
  private unknownCodeRan(s: FlowState): void {
    for (const obj of this.objects) if (obj.escaped) s.modes.set(obj.id, UNKNOWN_MODE);
  }

  /** A nested function or lambda that mentions a model may switch it whenever it runs. */
  private escapeCaptured(node: SyntaxNode, s: FlowState): void {
    for (const id of node.descendantsOfType("identifier")) if (id) this.escapeIf(s.vars.get(id.text), s);
  }

  private recordTraining(s: FlowState): void {
    s.trainedLoops.add(this.loopStack[this.loopStack.length - 1] ?? -1);
  }

  private call(node: SyntaxNode, s: FlowState): number | undefined {
    const fn = node.childForFieldName("function")!;
    const parts = callParts(node);
    if (fn.type === "attribute") {
      const method = fn.childForFieldName("attribute")!.text;
      const recvNode = fn.childForFieldName("object")!;
      const q = qualifiedNameOf(fn, this.ctx.index.imports);
      if (q === undefined || s.vars.has(recvNode.text)) {
        const recv = this.expr(recvNode, s);
        if (recv !== undefined) return this.modelMethod(recv, method, node, parts, s);
        if (method === "eval" || method === "train") this.partModeSet(recvNode, s);
        const argIds = this.evalArgs(parts, s);
        if (isTrainingStep(node)) this.recordTraining(s);
        for (const id of argIds) this.escapeIf(id, s);
        this.unknownCodeRan(s);
        return undefined;
      }
      return this.qualifiedCall(q, node, parts, s);
    }
    if (fn.type === "identifier") {
      const tracked = s.vars.get(fn.text);
      if (tracked !== undefined) {
        this.evalArgs(parts, s);
        this.modelCall(tracked, fn.text, node, s);
        return undefined;
      }
      const local = this.ctx.index.functions.get(fn.text);
      if (local) return this.inFileCall(local, node, parts, s);
      const cls = this.ctx.index.classByName.get(fn.text);
      if (cls) {
        for (const id of this.evalArgs(parts, s)) this.escapeIf(id, s);
        if (!cls.isModel) this.unknownCodeRan(s);
        return this.ctx.bnClasses.has(cls.name) ? this.newObject(s, { label: cls.name }, modesOf({ kind: "train", origin: { kind: "created", range: rangeOf(node), text: `${fn.text}(…)` } })) : undefined;
      }
      const q = this.ctx.index.imports.lookup(fn.text) ?? (MODE_NEUTRAL_FUNCTIONS.has(fn.text) ? fn.text : undefined);
      if (q) return this.qualifiedCall(q, node, parts, s);
    } else {
      const callee = this.expr(fn, s); // `model.eval()(x)`, `model.to(device)(x)`
      const argIds = this.evalArgs(parts, s);
      if (callee !== undefined) this.modelCall(callee, fn.text.split(/[.(]/)[0], node, s);
      else {
        for (const id of argIds) this.escapeIf(id, s);
        this.unknownCodeRan(s);
      }
      return undefined;
    }
    for (const id of this.evalArgs(parts, s)) this.escapeIf(id, s);
    this.unknownCodeRan(s);
    return undefined;
  }

  /**
   * `.eval()` / `.train()` on a part of a tracked model (`model.backbone.eval()`): which of its BatchNorms that
   * covers is not known, so neither is the model's mode.
   */
  private partModeSet(recvNode: SyntaxNode, s: FlowState): void {
    let root: SyntaxNode | null = recvNode;
    while (root && (root.type === "attribute" || root.type === "subscript")) root = root.childForFieldName(root.type === "attribute" ? "object" : "value");
    const id = root?.type === "identifier" ? s.vars.get(root.text) : undefined;
    if (id !== undefined) s.modes.set(id, UNKNOWN_MODE);
  }

  /** What loaded the weights: `load_state_dict`, or the pretrained builder call (`models.resnet18(…)`). */
  private loadLabel(at: SourceRange): string {
    const text = this.ctx.index.text.slice(at.startIndex, at.endIndex);
    if (text.includes("load_state_dict")) return "load_state_dict";
    const callee = /^[\w.]+/.exec(text)?.[0];
    return callee ? `${callee}(…)` : "load_state_dict";
  }

  private evalArgs(parts: CallParts, s: FlowState): (number | undefined)[] {
    return [...parts.positional, ...parts.keywords.values()].map((a) => this.expr(a, s));
  }

  private qualifiedCall(q: string, node: SyntaxNode, parts: CallParts, s: FlowState): number | undefined {
    const rebuilt = canonicalName(q) === "torch.nn.Sequential" ? this.sequentialOfChildren(node, s) : undefined;
    if (rebuilt !== undefined) return rebuilt;
    const argIds = this.evalArgs(parts, s);
    if (MODE_TRANSPARENT_WRAPPERS.has(q)) return argIds[0];
    const traced = argIds[0];
    if (traced !== undefined && recordsModeForGood(q, parts)) {
      // The model is not called here, but its BatchNorm calls are recorded as they run now.
      this.modelCall(traced, parts.positional[0].text, node, s, { kind: "trace", label: q, range: rangeOf(node) });
      return undefined;
    }
    if (MODE_NEUTRAL_FUNCTIONS.has(q)) return undefined;
    if (q === "copy.deepcopy" && argIds[0] !== undefined) {
      const src = this.objects[argIds[0]];
      return this.newObject(s, { label: src.label, slot: undefined }, s.modes.get(src.id) ?? UNKNOWN_MODE);
    }
    for (const id of argIds) this.escapeIf(id, s);
    this.unknownCodeRan(s);
    if (canonicalName(q) === "torch.nn.Sequential" && this.sequentialWithBatchNorm(node)) {
      // A model written inline (`model = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), ...)`).
      const label = `${node.childForFieldName("function")!.text}(…)`;
      return this.newObject(s, { label }, modesOf({ kind: "train", origin: { kind: "created", range: rangeOf(node), text: label } }));
    }
    const hub = q === "torch.hub.load" ? hubModelName(parts) : q === "torchvision.models.get_model" ? registeredModelName(parts) : q === "timm.create_model" ? timmModelName(node) : undefined;
    if ((!isBatchNormBuilder(q) && !hub) || !builderKeepsBatchNorm(node)) return undefined;
    const pretrained = parts.keywords.get("pretrained");
    const weights = parts.keywords.get("weights");
    const checkpoint = parts.keywords.get("checkpoint_path"); // timm loads it into the model it creates
    if (literalBool(pretrained) === true || (weights && weights.type !== "none") || (!hub && positionalWeights(parts.positional[0])) || (checkpoint && checkpoint.type !== "none")) s.loaded ??= rangeOf(node);
    const label = hub ? (q === "torch.hub.load" ? `torch.hub.load(…, "${hub}")` : `${q}("${hub}")`) : `${q}()`;
    return this.newObject(s, { label }, modesOf({ kind: "train", origin: { kind: "created", range: rangeOf(node), text: label } }));
  }

  /**
   * `nn.Sequential(*list(model.children())[:-1])`, a feature extractor cut from a tracked model: the same modules,
   * so the same BatchNorm layers and the same mode (`.eval()` on either switches both). Followed as the model itself.
   */
  private sequentialOfChildren(call: SyntaxNode, s: FlowState): number | undefined {
    const args = call.childForFieldName("arguments")?.namedChildren.filter((a): a is SyntaxNode => !!a && a.type !== "comment") ?? [];
    if (args.length !== 1 || args[0].type !== "list_splat") return undefined;
    const m = /^\*\s*list\(\s*([A-Za-z_]\w*)\.children\(\)\s*\)(?:\[[^\]]*\])?$/.exec(args[0].text);
    return m ? s.vars.get(m[1]) : undefined;
  }

  /** `nn.Sequential(...)` listing a BatchNorm with running statistics, directly or in a nested nn.Sequential. */
  private sequentialWithBatchNorm(call: SyntaxNode): boolean {
    return callParts(call).positional.some((arg) => {
      if (arg.type !== "call") return false;
      const q = qualifiedNameOf(arg.childForFieldName("function")!, this.ctx.index.imports);
      if (q === undefined) return false;
      if (isBatchNormType(canonicalName(q))) return literalBool(callParts(arg).keywords.get("track_running_stats")) !== false;
      return canonicalName(q) === "torch.nn.Sequential" && this.sequentialWithBatchNorm(arg);
    });
  }

  private modelMethod(recv: number, method: string, node: SyntaxNode, parts: CallParts, s: FlowState): number | undefined {
    const argIds = this.evalArgs(parts, s);
    for (const id of argIds) this.escapeIf(id, s);
    const range = rangeOf(node);
    switch (method) {
      case "eval":
        s.modes.set(recv, EVAL);
        return recv;
      case "train": {
        const flag = parts.positional[0] ?? parts.keywords.get("mode");
        const on = flag ? literalBool(flag) : true;
        if (on === false) s.modes.set(recv, EVAL);
        else if (on === undefined) s.modes.set(recv, UNKNOWN_MODE);
        else s.modes.set(recv, modesOf({ kind: this.context ? "trainInEval" : "train", origin: { kind: "train", range, text: node.text } }));
        return recv;
      }
      case "forward":
        this.modelCall(recv, node.childForFieldName("function")!.childForFieldName("object")!.text, node, s);
        return undefined;
      case "load_state_dict":
        s.loaded ??= range;
        return undefined;
      default:
        if (SELF_RETURNING_METHODS.has(method)) return recv;
        if (MODE_NEUTRAL_METHODS.has(method)) return undefined;
        // `modules()`, `apply(fn)`, a method of the user's class: it may switch modes anywhere inside.
        this.escapeIf(recv, s);
        this.unknownCodeRan(s);
        return undefined;
    }
  }

  private currentContext(s: FlowState, modes?: Modes): EvalContext | undefined {
    if (this.context) return this.context;
    if (s.loaded && !this.unitTrains && !this.noEvalCode) return { kind: "after_load", label: this.loadLabel(s.loaded), range: s.loaded };
    return modes ? flagContext(modes) : undefined;
  }

  /** A call of a tracked model: in evaluation code, decide now (a model of this unit) or leave it to callers. */
  private modelCall(id: number, variable: string, node: SyntaxNode, s: FlowState, tracing?: EvalContext): void {
    if (!tracing && node.id === this.discardedCall) return;
    const context = tracing ?? this.currentContext(s, s.modes.get(id)) ?? this.heldOutCall(node, s);
    // Looked for only in evaluation code: it reads the uses of the output's name in the whole unit.
    if (!context || (!tracing && onlySizeRead(node))) return;
    const obj = this.objects[id];
    const modes = s.modes.get(id) ?? UNKNOWN_MODE;
    const call = rangeOf(node);
    if (obj.slot) {
      const tags = new Map([...modes].filter(([, t]) => t.kind !== "entry"));
      const key = `${call.startIndex}:${obj.slot}`;
      if (mayBeEval(tags)) this.pending.delete(key);
      else this.pending.set(key, { slot: obj.slot, tags, hasEntry: hasKind(modes, "entry"), call, variable, context, callers: [], viaGlobal: obj.slot.startsWith("global:") });
      return;
    }
    // A model with nothing learned yet (built and traced in a smoke test) has no running statistics to lose.
    if ((context.kind === "function" || context.kind === "trace") && !this.mayHaveLearned(s)) return;
    this.local.set(`${call.startIndex}`, this.finding(modes, { variable, model: obj.label!, call, context, callers: [] }));
  }

  /**
   * Whether a model this unit created may hold learned running statistics here: weights were loaded, or training
   * ran, on some path to this point. An evaluation function that builds its own model and neither loads nor trains
   * it is a shape smoke test (`def test(): net = Net(); print(net(torch.randn(2, 3, 32, 32)).size())`, at the
   * foot of many model files): there is nothing for `.eval()` to use. A model passed in by a caller still counts.
   */
  private mayHaveLearned(s: FlowState): boolean {
    return s.loaded !== undefined || s.trainedLoops.size > 0 || this.unitTrains;
  }

  private finding(modes: Modes, base: Omit<TrainModeEvalCall, "origins" | "trainInEval">): TrainModeEvalCall | undefined {
    if (modes.size === 0 || mayBeEval(modes) || hasKind(modes, "entry")) return undefined;
    const tags = [...modes.values()];
    const origins: TrainOrigin[] = tags.filter((t) => t.kind === "train" && t.origin).map((t) => t.origin!);
    const trainInEval = tags.filter((t) => t.kind === "trainInEval" && t.origin).map((t) => t.origin!.range);
    return { ...base, origins, trainInEval };
  }

  private inFileCall(def: FunctionDef, node: SyntaxNode, parts: CallParts, s: FlowState): number | undefined {
    const summary = this.ctx.summaryOf(def);
    const argIds = this.evalArgs(parts, s);
    if (summary.opaque || parts.spread) {
      for (const id of argIds) this.escapeIf(id, s);
      this.unknownCodeRan(s);
      return undefined;
    }
    // Bind arguments to the callee's slots, as Python does: positional in order, then keywords by name.
    const bySlot = new Map<string, number>();
    const bound = new Set<number>();
    const positional = summary.params.filter((p) => p.kind === "positional");
    parts.positional.forEach((_, i) => {
      const id = argIds[i];
      if (id !== undefined && positional[i]) {
        bySlot.set(`param:${positional[i].name}`, id);
        bound.add(id);
      }
    });
    [...parts.keywords.keys()].forEach((name, j) => {
      const id = argIds[parts.positional.length + j];
      if (id !== undefined && summary.params.some((p) => p.name === name && p.kind !== "star" && p.kind !== "kwstar")) {
        bySlot.set(`param:${name}`, id);
        bound.add(id);
      }
    });
    for (const id of argIds) if (id !== undefined && !bound.has(id)) this.escapeIf(id, s); // into *args / **kwargs
    for (const slot of summary.slots) {
      if (!slot.startsWith("global:")) continue;
      const id = s.vars.get(slot.slice("global:".length));
      if (id !== undefined) bySlot.set(slot, id);
    }
    const site = rangeOf(node);
    for (const p of summary.pending) this.resolvePending(p, bySlot.get(p.slot), site, s);
    for (const [slot, id] of bySlot) {
      const exit = summary.exit.get(slot);
      if (exit) s.modes.set(id, substituteEntry(exit, s.modes.get(id) ?? UNKNOWN_MODE));
    }
    if (summary.trains) this.recordTraining(s);
    const r = summary.returns;
    if (!r) return undefined;
    if ("slot" in r) return bySlot.get(r.slot);
    if (r.loaded) s.loaded ??= r.loaded;
    return this.newObject(s, { label: r.label }, r.modes);
  }

  /** An evaluation call inside a callee that depends on the mode this unit passes in. */
  private resolvePending(p: Pending, id: number | undefined, site: SourceRange, s: FlowState): void {
    const key = `${p.call.startIndex}@${site.startIndex}`;
    if (id === undefined) return;
    const obj = this.objects[id];
    const atCall = s.modes.get(id) ?? UNKNOWN_MODE;
    const callers = [site, ...p.callers];
    if (obj.slot) {
      const passed = new Map([...atCall].filter(([, t]) => t.kind !== "entry"));
      const tags = unionModes(p.tags, p.hasEntry ? passed : new Map());
      const pendingKey = `${key}:${obj.slot}`;
      if (mayBeEval(tags)) this.pending.delete(pendingKey);
      else this.pending.set(pendingKey, { ...p, slot: obj.slot, tags, hasEntry: p.hasEntry && hasKind(atCall, "entry"), callers });
      return;
    }
    if (p.context.kind === "trace" && !this.mayHaveLearned(s)) return;
    const modes = p.hasEntry ? unionModes(p.tags, atCall) : p.tags;
    this.local.set(key, this.finding(modes, { variable: p.variable, model: obj.label!, call: p.call, context: p.context, callers, viaGlobal: p.viaGlobal, handedOver: p.handedOver }));
  }
}

/**
 * A torchvision builder's first positional argument loads weights: `resnet50(True)` (the old `pretrained`),
 * `resnet50(ResNet50_Weights.IMAGENET1K_V2)` or `resnet50("DEFAULT")` (`weights`). A name may hold `False`: unknown.
 */
function positionalWeights(arg: SyntaxNode | undefined): boolean {
  if (!arg) return false;
  if (arg.type === "true") return true;
  return arg.type === "string" || (arg.type === "attribute" && /Weights\b/.test(arg.text));
}

/**
 * Calls that record a model's BatchNorm calls in the mode it is in, for good: `torch.jit.trace` bakes the
 * `training` branch into the graph (the traced module keeps using batch statistics after `.eval()`), as do
 * `torch.export.export` and `torch.onnx.export` since PyTorch 2.9 (its default `dynamo=True` exporter exports the
 * mode the model is in; PyTorch 2.6 deprecated the `training=` option that switched to eval mode).
 */
function recordsModeForGood(q: string, parts: CallParts): boolean {
  if (parts.positional.length === 0) return false;
  if (q === "torch.jit.trace" || q === "torch.jit.trace_module" || q === "torch.export.export") return true;
  if (q !== "torch.onnx.export") return false;
  // The TorchScript exporter (`dynamo=False`, the default before PyTorch 2.9) switches to eval mode for the export
  // unless told otherwise; an explicit `training=` is the author's choice, except PRESERVE, which keeps the mode.
  const training = parts.keywords.get("training")?.text;
  if (training !== undefined) return /\bPRESERVE$/.test(training);
  return literalBool(parts.keywords.get("dynamo")) !== false;
}

/** Decorators that register a function for a server or a bot to run later (`@app.route("/")`, `@router.post`). */
const REGISTERING_DECORATOR = /^@\s*[A-Za-z_][\w.]*\.(?:route|get|post|put|patch|delete|websocket|api_route|command|message_handler|event|callback)\b/;

/**
 * Top-level functions the file never calls but hands to other code: passed as an argument (`fn=predict`,
 * `gr.Interface(predict, ...)`, `Thread(target=run)`) or registered by a decorator. With where that happens.
 */
function handedFunctions(index: ModelIndex, defs: readonly FunctionDef[]): { def: FunctionDef; site: SourceRange }[] {
  const out: { def: FunctionDef; site: SourceRange }[] = [];
  const root = index.tree.rootNode;
  for (const def of defs) {
    // The name's occurrences by text, each looked up in the tree: no walk over the whole file.
    let called = false;
    let handed: SourceRange | undefined;
    const word = new RegExp(`(?<![\\w.])${def.name}(?!\\w)`, "g");
    for (const m of index.text.matchAll(word)) {
      const node = root.descendantForIndex(m.index!);
      if (node.type !== "identifier" || node.startIndex !== m.index) continue;
      const parent = node.parent;
      if (parent?.type === "call" && parent.childForFieldName("function") === node) called = true;
      else if (parent?.type === "argument_list" || (parent?.type === "keyword_argument" && parent.childForFieldName("value") === node)) handed ??= rangeOf(node);
      if (called) break;
    }
    if (called) continue;
    const decorator = def.node.parent?.type === "decorated_definition" ? def.node.parent.namedChildren.find((c) => c?.type === "decorator" && REGISTERING_DECORATOR.test(c.text)) : undefined;
    const site = handed ?? (decorator ? rangeOf(decorator) : undefined);
    if (site) out.push({ def, site });
  }
  return out;
}

/** Runs the analysis over module-level code and every top-level function of the file. */
export function analyzeScripts(index: ModelIndex, graphs: readonly ForwardGraph[]): ScriptAnalysis {
  const withBatchNorm = modelClassesWithBatchNorm(graphs);
  const ctx = new ScriptContext(index, new Set([...withBatchNorm, ...classesWrappingBatchNormModels(index, withBatchNorm)]));
  // A model is a class of the file with BatchNorm, a torchvision or timm builder, or an inline nn.Sequential listing one.
  if (ctx.bnClasses.size > 0 || index.imports.mentions("torchvision") || index.imports.mentions("timm") || index.text.includes("hub.load") || (index.text.includes("Sequential") && index.text.includes("BatchNorm"))) {
    for (const def of index.functions.values()) ctx.summaryOf(def);
    new UnitWalker(ctx).walkModule();
  }
  return { trainModeEvalCalls: [...ctx.findings.values()].sort((a, b) => a.call.startIndex - b.call.startIndex) };
}

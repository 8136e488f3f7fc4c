import type { SyntaxNode, Tree } from "./parser.js";
import { collectImports, type ImportTable } from "./imports.js";
import { rangeOf } from "../../model/source.js";
import { canonicalName, CONTAINER_TYPES, MODULE_BASES } from "../../model/knowledge.js";
import type { FunctionDef, ModelClass, ModelIndex, ParamDef } from "../../model/index-types.js";

/** Resolves a dotted expression (`nn.Module`, `torch.nn.modules.batchnorm.BatchNorm2d`) through the imports. */
export function qualifiedNameOf(node: SyntaxNode, imports: ImportTable): string | undefined {
  if (node.type === "identifier") return imports.lookup(node.text);
  if (node.type === "attribute") {
    const object = node.childForFieldName("object");
    const attr = node.childForFieldName("attribute");
    if (!object || !attr) return undefined;
    const base = qualifiedNameOf(object, imports);
    return base === undefined ? undefined : canonicalName(`${base}.${attr.text}`);
  }
  return undefined;
}

/** The text of a plain string literal (`"pytorch/vision:v0.10.0"`): no prefix, escape or f-string field. */
export function stringLiteral(node: SyntaxNode | undefined | null): string | undefined {
  return node?.type === "string" ? /^(['"])([^'"\\{}]*)\1$/.exec(node.text)?.[2] : undefined;
}

function readParams(node: SyntaxNode): ParamDef[] {
  const params: ParamDef[] = [];
  let keywordOnly = false;
  for (const p of node.namedChildren) {
    if (!p) continue;
    switch (p.type) {
      case "identifier":
        params.push({ name: p.text, kind: keywordOnly ? "keyword" : "positional" });
        break;
      case "typed_parameter": {
        const id = p.namedChildren.find((c) => c?.type === "identifier");
        const splat = p.namedChildren.find((c) => c?.type === "list_splat_pattern" || c?.type === "dictionary_splat_pattern");
        if (splat) params.push({ name: splat.text.replace(/^\*+/, ""), kind: splat.type === "list_splat_pattern" ? "star" : "kwstar" });
        else if (id) params.push({ name: id.text, kind: keywordOnly ? "keyword" : "positional" });
        break;
      }
      case "default_parameter":
      case "typed_default_parameter": {
        const name = p.childForFieldName("name");
        const value = p.childForFieldName("value");
        if (name) params.push({ name: name.text, defaultNode: value ?? undefined, kind: keywordOnly ? "keyword" : "positional" });
        break;
      }
      case "list_splat_pattern":
        params.push({ name: p.text.replace(/^\*/, ""), kind: "star" });
        keywordOnly = true;
        break;
      case "dictionary_splat_pattern":
        params.push({ name: p.text.replace(/^\*\*/, ""), kind: "kwstar" });
        break;
      case "keyword_separator":
        keywordOnly = true;
        break;
      default:
        break;
    }
  }
  return params;
}

const PROPERTY_DECORATORS = new Set(["property", "cached_property", "functools.cached_property"]);

export function readFunction(node: SyntaxNode, decorators: string[] = []): FunctionDef | undefined {
  const name = node.childForFieldName("name");
  const params = node.childForFieldName("parameters");
  const body = node.childForFieldName("body");
  if (!name || !params || !body) return undefined;
  let paramsCache: ParamDef[] | undefined;
  return {
    name: name.text,
    node,
    range: rangeOf(node),
    nameRange: rangeOf(name),
    // Read on first use: most methods of a file are never run by the analysis.
    get params() {
      paramsCache ??= readParams(params);
      return paramsCache;
    },
    body,
    isStatic: decorators.includes("staticmethod"),
    isProperty: decorators.some((d) => PROPERTY_DECORATORS.has(d)),
  };
}

function unwrapDecorated(node: SyntaxNode): { def: SyntaxNode; decorators: string[] } {
  if (node.type !== "decorated_definition") return { def: node, decorators: [] };
  const decorators = node.namedChildren
    .filter((c): c is SyntaxNode => c?.type === "decorator")
    .map((d) => d.text.replace(/^@/, "").trim());
  const def = node.childForFieldName("definition");
  return { def: def ?? node, decorators };
}

/** Statements of a block, looking through `if`/`try` at module level (e.g. `if TYPE_CHECKING:` imports). */
function* topLevelStatements(block: SyntaxNode): Generator<SyntaxNode> {
  for (const stmt of block.namedChildren) {
    if (!stmt) continue;
    if (stmt.type === "if_statement" || stmt.type === "try_statement") {
      for (const part of stmt.namedChildren) {
        if (!part) continue;
        const inner = part.type === "block" ? part : part.namedChildren.find((c) => c?.type === "block");
        if (inner) yield* topLevelStatements(inner);
      }
      continue;
    }
    yield stmt;
  }
}

function readClass(node: SyntaxNode, imports: ImportTable): ModelClass | undefined {
  const name = node.childForFieldName("name");
  const body = node.childForFieldName("body");
  if (!name || !body) return undefined;
  const baseNames: string[] = [];
  const superclasses = node.childForFieldName("superclasses");
  for (const b of superclasses?.namedChildren ?? []) {
    if (!b || b.type === "keyword_argument") continue;
    baseNames.push(qualifiedNameOf(b, imports) ?? b.text);
  }
  const methods = new Map<string, FunctionDef>();
  const classAssignments = new Map<string, SyntaxNode>();
  for (const stmt of body.namedChildren) {
    if (!stmt) continue;
    const { def, decorators } = unwrapDecorated(stmt);
    if (def.type === "function_definition") {
      const fn = readFunction(def, decorators);
      // `@norm1.setter` defines the same name again: the getter stays what reading `self.norm1` runs.
      const accessor = decorators.some((d) => /\.(setter|deleter)$/.test(d));
      if (fn && !(accessor && methods.get(fn.name)?.isProperty)) methods.set(fn.name, fn);
    } else if (stmt.type === "expression_statement") {
      const assign = stmt.namedChildren[0];
      if (assign?.type === "assignment") {
        const left = assign.childForFieldName("left");
        const right = assign.childForFieldName("right");
        if (left?.type === "identifier" && right) classAssignments.set(left.text, right);
      }
    }
  }
  return {
    name: name.text,
    node,
    range: rangeOf(node),
    nameRange: rangeOf(name),
    baseNames,
    bases: [],
    methods,
    classAssignments,
    isModel: false,
    framework: "torch",
  };
}

/** Libraries whose classes are not modules (`abc.ABC`, `typing.Generic`); torch's own modules are named in MODULE_BASES. */
const NON_MODULE_LIBRARIES = /^(torch|typing|typing_extensions|abc|enum|collections|dataclasses|builtins|object)(\.|$)/;

/**
 * A class of a base imported from the project (`from .base import BaseVAE`), with a `forward` and torch.nn layers
 * assigned in `__init__` (`self.fc = nn.Linear(...)`): a module whose base class lives in another file.
 */
function moduleOfUnseenBase(cls: ModelClass, imports: ImportTable): boolean {
  if (cls.baseNames.length === 0 || cls.bases.length > 0) return false;
  const superclasses = cls.node.childForFieldName("superclasses")?.namedChildren.filter((b) => b && b.type !== "keyword_argument") ?? [];
  const imported = superclasses.every((b) => {
    const q = b ? qualifiedNameOf(b, imports) : undefined;
    return q !== undefined && !NON_MODULE_LIBRARIES.test(q);
  });
  const init = cls.methods.get("__init__");
  if (!imported || !cls.methods.has("forward") || !init) return false;
  return init.body.descendantsOfType("assignment").some((a) => {
    const left = a?.childForFieldName("left");
    const right = a?.childForFieldName("right");
    if (left?.type !== "attribute" || left.childForFieldName("object")?.text !== "self" || right?.type !== "call") return false;
    return qualifiedNameOf(right.childForFieldName("function")!, imports)?.startsWith("torch.nn.") ?? false;
  });
}

/** Builds the ModelIndex of one parsed Python file. */
export function indexPython(filePath: string, text: string, tree: Tree): ModelIndex {
  const root = tree.rootNode;
  const imports = collectImports(root, text);
  const classes: ModelClass[] = [];
  const functions = new Map<string, FunctionDef>();
  const globals = new Map<string, SyntaxNode>();
  for (const stmt of topLevelStatements(root)) {
    const { def, decorators } = unwrapDecorated(stmt);
    if (def.type === "class_definition") {
      const cls = readClass(def, imports);
      if (cls) classes.push(cls);
    } else if (def.type === "function_definition") {
      const fn = readFunction(def, decorators);
      if (fn) functions.set(fn.name, fn);
    } else if (stmt.type === "expression_statement") {
      const assign = stmt.namedChildren[0];
      if (assign?.type === "assignment") {
        const left = assign.childForFieldName("left");
        const right = assign.childForFieldName("right");
        if (left?.type === "identifier" && right) globals.set(left.text, right);
      }
    }
  }
  const classByName = new Map(classes.map((c) => [c.name, c]));
  for (const cls of classes) {
    for (const base of cls.baseNames) {
      const local = classByName.get(base);
      if (local && local !== cls) cls.bases.push(local);
    }
  }
  // A class is a model when a base is nn.Module (however imported) or another model class: iterate to a fixpoint.
  let changed = true;
  while (changed) {
    changed = false;
    for (const cls of classes) {
      if (cls.isModel) continue;
      // nn.Sequential / ModuleList / ModuleDict subclasses are modules too (torchvision's ConvNormActivation).
      if (cls.baseNames.some((b) => MODULE_BASES.has(b) || CONTAINER_TYPES.has(b)) || cls.bases.some((b) => b.isModel)) {
        cls.isModel = true;
        cls.baseUnseen = cls.bases.some((b) => b.isModel && b.baseUnseen);
        changed = true;
      } else if (moduleOfUnseenBase(cls, imports)) {
        cls.isModel = true;
        cls.baseUnseen = true;
        changed = true;
      }
    }
  }
  const mentionsFramework = imports.mentions("torch") || imports.mentions("pytorch_lightning") || imports.mentions("lightning");
  return { filePath, text, tree, imports, classes, classByName, functions, globals, mentionsFramework };
}

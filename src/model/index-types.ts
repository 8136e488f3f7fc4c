import type { SyntaxNode, Tree } from "../frontend/python/parser.js";
import type { SourceRange } from "./source.js";
import type { ImportTable } from "../frontend/python/imports.js";

export type Framework = "torch" | "keras" | "tfjs";

export interface FunctionDef {
  readonly name: string;
  readonly node: SyntaxNode;
  readonly range: SourceRange;
  readonly nameRange: SourceRange;
  /** Parameter names in order, with their default expressions. `self` included for methods. */
  readonly params: readonly ParamDef[];
  readonly body: SyntaxNode;
  readonly isStatic: boolean;
  /** `@property` (or `functools.cached_property`): reading the attribute runs it. */
  readonly isProperty: boolean;
}

export interface ParamDef {
  readonly name: string;
  readonly defaultNode?: SyntaxNode;
  readonly kind: "positional" | "star" | "kwstar" | "keyword";
}

export interface ModelClass {
  readonly name: string;
  readonly node: SyntaxNode;
  readonly range: SourceRange;
  readonly nameRange: SourceRange;
  /** Base class expressions resolved to qualified names (`torch.nn.Module`) or in-file class names. */
  readonly baseNames: readonly string[];
  readonly bases: ModelClass[];
  readonly methods: Map<string, FunctionDef>;
  /** Class-level assignments such as `expansion = 4`. */
  readonly classAssignments: Map<string, SyntaxNode>;
  isModel: boolean;
  /**
   * A model only by evidence: its base is imported from elsewhere in the project (`class VanillaVAE(BaseVAE)`), and
   * it defines `forward` and builds torch.nn layers in `__init__`. What the base defines stays unknown.
   */
  baseUnseen?: boolean;
  readonly framework: Framework;
}

/** Everything the front end knows about one source file. */
export interface ModelIndex {
  readonly filePath: string;
  readonly text: string;
  readonly tree: Tree;
  readonly imports: ImportTable;
  readonly classes: ModelClass[];
  readonly classByName: Map<string, ModelClass>;
  readonly functions: Map<string, FunctionDef>;
  /** Module-level simple assignments `NAME = expr`, last one wins. */
  readonly globals: Map<string, SyntaxNode>;
  /** True when the file mentions a supported framework at all. */
  readonly mentionsFramework: boolean;
}

export function findMethod(cls: ModelClass, name: string, seen = new Set<ModelClass>()): { def: FunctionDef; cls: ModelClass } | undefined {
  if (seen.has(cls)) return undefined;
  seen.add(cls);
  const own = cls.methods.get(name);
  if (own) return { def: own, cls };
  for (const base of cls.bases) {
    const found = findMethod(base, name, seen);
    if (found) return found;
  }
  return undefined;
}

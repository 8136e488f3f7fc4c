import type { SyntaxNode } from "./parser.js";
import { canonicalName, TORCH_NN_CLASSES } from "../../model/knowledge.js";

/** Local names bound by import statements, each mapped to the fully qualified name it stands for. */
export class ImportTable {
  private readonly names = new Map<string, string>();
  /** Modules imported with `from M import *`. */
  private readonly starModules: string[] = [];

  bind(local: string, qualified: string): void {
    this.names.set(local, qualified);
  }

  addStar(module: string): void {
    this.starModules.push(module);
  }

  has(local: string): boolean {
    return this.names.has(local);
  }

  /** `nn` → `torch.nn`; a star-imported `BatchNorm2d` → `torch.nn.BatchNorm2d`. */
  lookup(local: string): string | undefined {
    const q = this.names.get(local);
    if (q !== undefined) return q;
    for (const m of this.starModules) {
      const candidate = canonicalName(`${m}.${local}`);
      if ((m === "torch.nn" || m.startsWith("torch.nn.modules")) && TORCH_NN_CLASSES.has(candidate)) return candidate;
      if (m === "torch.nn.functional") return candidate;
    }
    return undefined;
  }

  /** Whether any import binds a framework module. */
  mentions(prefix: string): boolean {
    for (const q of this.names.values()) if (q === prefix || q.startsWith(`${prefix}.`)) return true;
    return this.starModules.some((m) => m === prefix || m.startsWith(`${prefix}.`));
  }
}

function dottedText(node: SyntaxNode): string {
  return node.text.replace(/\s+/g, "");
}

/** Reads every import statement in the file (at any depth: imports inside functions count too). */
export function collectImports(root: SyntaxNode, source: string): ImportTable {
  const table = new ImportTable();
  // Only subtrees whose text contains "import" can hold an import statement.
  const mayImport = (node: SyntaxNode): boolean => {
    const at = source.indexOf("import", node.startIndex);
    return at >= 0 && at < node.endIndex;
  };
  const visit = (node: SyntaxNode): void => {
    if (node.type === "import_statement") {
      for (const child of node.namedChildren) {
        if (!child) continue;
        if (child.type === "dotted_name") {
          const full = dottedText(child);
          table.bind(full.split(".")[0], full.split(".")[0]);
        } else if (child.type === "aliased_import") {
          const name = child.childForFieldName("name");
          const alias = child.childForFieldName("alias");
          if (name && alias) table.bind(alias.text, dottedText(name));
        }
      }
      return;
    }
    if (node.type === "import_from_statement") {
      const moduleNode = node.childForFieldName("module_name");
      if (!moduleNode) return;
      // `from ..utils import f` binds f to `..utils.f`: a name of the package, never one of torch's.
      const relative = moduleNode.type === "relative_import";
      const module = relative ? moduleNode.text.replace(/\s+/g, "") : dottedText(moduleNode);
      const qualified = (name: string): string => (module.endsWith(".") ? `${module}${name}` : canonicalName(`${module}.${name}`));
      if (node.namedChildren.some((c) => c?.type === "wildcard_import")) {
        if (!relative) table.addStar(module);
        return;
      }
      for (const child of node.childrenForFieldName("name")) {
        if (!child) continue;
        if (child.type === "dotted_name") {
          table.bind(dottedText(child), qualified(dottedText(child)));
        } else if (child.type === "aliased_import") {
          const name = child.childForFieldName("name");
          const alias = child.childForFieldName("alias");
          if (name && alias) table.bind(alias.text, qualified(dottedText(name)));
        }
      }
      return;
    }
    if (node.type === "function_definition" || node.type === "class_definition" || node.type === "module" ||
        node.type === "block" || node.type === "if_statement" || node.type === "try_statement" ||
        node.type === "else_clause" || node.type === "except_clause" || node.type === "finally_clause" ||
        node.type === "decorated_definition" || node.type === "with_statement" || node.type === "elif_clause") {
      if (!mayImport(node)) return;
      for (const child of node.namedChildren) if (child) visit(child);
    }
  };
  visit(root);
  return table;
}

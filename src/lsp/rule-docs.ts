/** Where an editor's "rule id" link points: the rule's section of the README (generated from rule metadata). */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let base: string | undefined;

/** bnlint's own package.json, found upwards from this file (from `dist/src/lsp/` or from `src/lsp/` under tests). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, "utf8")) as { name?: string }).name === "bnlint") return dir;
    dir = dirname(dir);
  }
  return undefined;
}

function docsBase(): string {
  if (base !== undefined) return base;
  const root = packageRoot();
  const pkg = root ? (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { homepage?: string }) : {};
  // A package with a homepage links it; otherwise the README that ships beside the code.
  base = pkg.homepage ? pkg.homepage.replace(/#.*$/, "") : root ? pathToFileURL(join(root, "README.md")).href : "";
  return base;
}

/** README headings are the rule ids, so the anchor is the id itself. */
export function ruleDocsUrl(ruleId: string): string | undefined {
  const where = docsBase();
  return where ? `${where}#${ruleId}` : undefined;
}

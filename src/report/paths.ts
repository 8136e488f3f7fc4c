import { isAbsolute, relative, sep } from "node:path";

/** A result's path relative to `cwd` with forward slashes (what CI annotations and SARIF URIs want). */
export function displayPath(filePath: string, cwd: string): string {
  if (!isAbsolute(filePath)) return filePath.split(sep).join("/");
  const rel = relative(cwd, filePath);
  return (rel === "" || rel.startsWith("..") ? filePath : rel).split(sep).join("/");
}

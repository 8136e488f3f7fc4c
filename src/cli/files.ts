import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Ignore } from "ignore";

/** Folders never walked into: tools' caches, dependencies, virtual environments. */
const SKIPPED_DIRS = new Set([
  "node_modules", ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
  ".pytest_cache", ".ruff_cache", "site-packages", ".eggs", "dist-packages",
]);

export const LINTED_EXTENSIONS = [".py", ".pyi"];

/**
 * Files named on the command line that are certainly not Python source: reported with a warning and skipped
 * (as ESLint warns about a file it was given but does not lint), rather than parsed as Python.
 */
const OTHER_LANGUAGES: ReadonlyMap<string, string> = new Map([
  ...[".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"].map((e) => [e, "JavaScript/TypeScript (TensorFlow.js is not supported yet)"] as const),
  [".ipynb", "a Jupyter notebook (export it with `jupyter nbconvert --to script`)"],
  ...[".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".md", ".txt"].map((e) => [e, "not source code"] as const),
  ...[".pt", ".pth", ".ckpt", ".h5", ".keras", ".onnx", ".pb", ".safetensors"].map((e) => [e, "saved weights, not source code"] as const),
]);

export interface FileEntry {
  path: string;
  /** Set when the path could not be read (missing, permission denied): reported, not linted. */
  error?: string;
  /** Set for a named file bnlint does not lint (another language): a warning, and the file is skipped. */
  notice?: string;
}

/** Why a file named on the command line is not linted, or undefined when it is linted as Python. */
export function notLinted(path: string): string | undefined {
  const dot = path.lastIndexOf(".");
  const ext = dot > path.lastIndexOf("/") ? path.slice(dot).toLowerCase() : "";
  const what = OTHER_LANGUAGES.get(ext);
  return what ? `File ignored: bnlint lints Python files (.py, .pyi), and this is ${what}.` : undefined;
}

interface IgnoreLayer {
  base: string;
  rules: Ignore;
}

async function readIgnoreFile(dir: string): Promise<IgnoreLayer | undefined> {
  try {
    const text = await readFile(join(dir, ".gitignore"), "utf8");
    const { default: ignore } = await import("ignore"); // only folder walks that meet a .gitignore need it
    return { base: dir, rules: ignore().add(text) };
  } catch {
    return undefined;
  }
}

function isIgnored(layers: IgnoreLayer[], path: string, isDir: boolean): boolean {
  for (const layer of layers) {
    const rel = relative(layer.base, path).split(sep).join("/");
    if (!rel || rel.startsWith("..")) continue;
    if (layer.rules.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}

/** The .gitignore files that apply above `dir`, from the repository root (the folder holding .git) down. */
async function ancestorIgnores(dir: string): Promise<IgnoreLayer[]> {
  const chain: string[] = [];
  let cur = dir;
  for (;;) {
    chain.unshift(cur);
    const isRoot = await stat(join(cur, ".git")).then(() => true, () => false);
    const parent = dirname(cur);
    if (isRoot || parent === cur) break;
    cur = parent;
  }
  if (!(await stat(join(chain[0], ".git")).then(() => true, () => false))) return [];
  const layers = await Promise.all(chain.slice(0, -1).map(readIgnoreFile));
  return layers.filter((l): l is IgnoreLayer => !!l);
}

async function isVirtualEnv(dir: string): Promise<boolean> {
  return stat(join(dir, "pyvenv.cfg")).then(() => true, () => false);
}

/** Expands paths into the files to lint: files as given, folders walked (respecting .gitignore). */
export async function collectFiles(paths: string[], cwd = process.cwd()): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  const addFile = (p: string): void => {
    if (seenFiles.has(p)) return;
    seenFiles.add(p);
    out.push({ path: p });
  };
  const walk = async (dir: string, layers: IgnoreLayer[]): Promise<void> => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      return;
    }
    if (seenDirs.has(real)) return; // symlink cycles
    seenDirs.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      out.push({ path: dir, error: `cannot read directory: ${(e as NodeJS.ErrnoException).code === "EACCES" ? "permission denied" : (e as Error).message}` });
      return;
    }
    const own = await readIgnoreFile(dir);
    const here = own ? [...layers, own] : layers;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        if (!target) continue; // broken link
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDir) {
        if (SKIPPED_DIRS.has(entry.name) || isIgnored(here, full, true) || (await isVirtualEnv(full))) continue;
        await walk(full, here);
      } else if (isFile && LINTED_EXTENSIONS.some((ext) => entry.name.endsWith(ext)) && !isIgnored(here, full, false)) {
        addFile(full);
      }
    }
  };
  for (const p of paths) {
    const full = resolve(cwd, p);
    const info = await stat(full).catch((e: NodeJS.ErrnoException) => e);
    if (info instanceof Error) {
      out.push({ path: full, error: info.code === "ENOENT" ? "no such file or directory" : info.code === "EACCES" ? "permission denied" : info.message });
      continue;
    }
    if (info.isDirectory()) {
      await walk(full, await ancestorIgnores(full));
      continue;
    }
    const notice = notLinted(full);
    if (!notice) addFile(full);
    else if (!seenFiles.has(full)) {
      seenFiles.add(full);
      out.push({ path: full, notice });
    }
  }
  return out;
}

import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { BnlintConfig } from "./config.js";
import { ConfigError } from "./error.js";

/** The TOML parser and its checks are loaded only once a configuration file has been found. */
async function parseConfig(text: string, file: string, knownRules: ReadonlySet<string>): Promise<BnlintConfig | undefined> {
  return (await import("./config.js")).parseConfig(text, file, knownRules);
}

/** Looked for in each folder, in this order; the first one that configures bnlint wins (as Ruff does). */
export const CONFIG_FILE_NAMES = ["bnlint.toml", "pyproject.toml"];

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw new ConfigError(file, 1, `cannot read: ${(e as Error).message}`);
  }
}

/** Loads one named configuration file (`--config`): it must exist and configure bnlint. */
export async function loadConfigFile(file: string, knownRules: ReadonlySet<string>): Promise<BnlintConfig> {
  const full = resolve(file);
  const text = await readIfExists(full);
  if (text === undefined) throw new ConfigError(full, 1, "no such file");
  const config = await parseConfig(text, full, knownRules);
  if (!config) throw new ConfigError(full, 1, "has no [tool.bnlint] table");
  return config;
}

/** Finds the configuration for each file by walking up from its folder; the nearest file wins. Cached per folder. */
export class ConfigResolver {
  private readonly byDir = new Map<string, Promise<BnlintConfig | undefined>>();

  constructor(private readonly knownRules: ReadonlySet<string>) {}

  forFile(filePath: string): Promise<BnlintConfig | undefined> {
    return this.forDir(dirname(resolve(filePath)));
  }

  private forDir(dir: string): Promise<BnlintConfig | undefined> {
    let found = this.byDir.get(dir);
    if (!found) {
      found = this.lookUp(dir);
      this.byDir.set(dir, found);
    }
    return found;
  }

  private async lookUp(dir: string): Promise<BnlintConfig | undefined> {
    for (const name of CONFIG_FILE_NAMES) {
      const file = join(dir, name);
      const text = await readIfExists(file);
      if (text === undefined) continue;
      const config = await parseConfig(text, file, this.knownRules);
      if (config) return config;
    }
    const parent = dirname(dir);
    return parent === dir ? undefined : this.forDir(parent);
  }
}

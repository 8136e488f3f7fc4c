import type { Formatter } from "./formatter.js";

/** Formatters by name, loaded on demand so a run only pays for the one it prints. */
const loaders: Record<string, () => Promise<Formatter>> = {
  stylish: async () => (await import("./stylish.js")).stylish,
  json: async () => (await import("./json.js")).json,
  sarif: async () => (await import("./sarif.js")).sarif,
  github: async () => (await import("./github.js")).github,
  junit: async () => (await import("./junit.js")).junit,
};

export const formatNames = Object.keys(loaders);

export async function loadFormatter(name: string): Promise<Formatter | undefined> {
  const load = loaders[name];
  return load ? load() : undefined;
}

export type { Formatter, FormatContext } from "./formatter.js";

import type { Formatter } from "./formatter.js";

/** Formatters by name, loaded on demand so a run only pays for the one it prints. */
const loaders: Record<string, (options: { color?: boolean }) => Promise<Formatter>> = {
  stylish: async ({ color }) => {
    const module = await import("./stylish.js");
    if (color) await module.loadColors();
    return module.stylish;
  },
  json: async () => (await import("./json.js")).json,
  sarif: async () => (await import("./sarif.js")).sarif,
  github: async () => (await import("./github.js")).github,
  junit: async () => (await import("./junit.js")).junit,
};

export const formatNames = Object.keys(loaders);

/** `color`: whether output will be coloured (stylish then loads chalk; without colour it does not need it). */
export async function loadFormatter(name: string, options: { color?: boolean } = {}): Promise<Formatter | undefined> {
  const load = loaders[name];
  return load ? load(options) : undefined;
}

export type { Formatter, FormatContext } from "./formatter.js";

/** Kept apart from the parser (config.ts) so that runs without a configuration file never load smol-toml. */

/** A configuration file bnlint cannot use: reported with the file, the line and the reason (exit code 2). */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

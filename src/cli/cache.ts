/**
 * `--cache`: remembers each file's result under a key made of its content hash, the options it was
 * linted with (configuration included) and the bnlint version, and reuses it while all three match.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join, basename } from "node:path";
import type { LintOptions } from "../engine/linter.js";
import type { LintResult } from "../engine/diagnostic.js";
import { decodeSource } from "../engine/source-file.js";
import { VERSION } from "../version.js";

interface Entry {
  key: string;
  result: Omit<LintResult, "source">;
}

interface CacheFile {
  bnlint: string;
  entries: Record<string, Entry>;
}

/** JSON with object keys sorted, so equal options always give the same text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

export class LintCache {
  private entries: Record<string, Entry> = {};
  private dirty = false;

  private constructor(readonly location: string) {}

  /** Opens the cache file; a missing, unreadable or older-version cache starts empty. */
  static async open(location: string): Promise<LintCache> {
    const cache = new LintCache(location);
    try {
      const data = JSON.parse(await readFile(location, "utf8")) as CacheFile;
      if (data.bnlint === VERSION && data.entries && typeof data.entries === "object") cache.entries = data.entries;
    } catch {
      // no cache yet, or not one we can read: lint everything
    }
    return cache;
  }

  private static key(bytes: Buffer, options: LintOptions): string {
    const { ruleSet: _functions, ...data } = options;
    return createHash("sha256").update(VERSION).update("\0").update(canonical(data)).update("\0").update(bytes).digest("hex");
  }

  /** The cached result for this content and options, with its source text restored for code frames. */
  async get(filePath: string, options: LintOptions): Promise<{ result?: LintResult; store: (r: LintResult) => void }> {
    const bytes = await readFile(filePath).catch(() => undefined);
    if (!bytes) return { store: () => undefined };
    const key = LintCache.key(bytes, options);
    const store = (r: LintResult): void => {
      if (r.messages.some((m) => m.fatal)) return; // internal errors and unreadable files are retried next time
      const { source: _source, ...result } = r;
      this.entries[filePath] = { key, result };
      this.dirty = true;
    };
    const hit = this.entries[filePath];
    if (hit?.key !== key) return { store };
    const decoded = decodeSource(bytes);
    return { result: { ...hit.result, source: decoded.ok ? decoded.text : undefined }, store };
  }

  /** Writes the cache atomically (temporary file + rename); a failure to write only loses the cache. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const temp = join(dirname(this.location), `.${basename(this.location)}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      await writeFile(temp, JSON.stringify({ bnlint: VERSION, entries: this.entries } satisfies CacheFile));
      await rename(temp, this.location);
    } catch {
      await unlink(temp).catch(() => undefined);
    }
  }
}

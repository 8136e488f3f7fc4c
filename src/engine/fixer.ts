/** `--fix`: lint, apply fixes, lint again (up to 10 passes, as ESLint), and write files atomically. */
import { access, chmod, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { lintText, type LintOptions } from "./linter.js";
import type { LintResult } from "./diagnostic.js";
import { applyFixes } from "./fix-apply.js";
import { decodeSource } from "./source-file.js";

export const MAX_FIX_PASSES = 10;

export interface FixOptions {
  /** Also apply fixes marked unsafe (`--unsafe-fixes`). */
  unsafe: boolean;
}

export interface FixOutcome {
  /** The text after every pass. */
  output: string;
  /** Lint result of the final text. */
  result: LintResult;
  fixesApplied: number;
  /** Titles of the fixes applied, in order (they carry the checkpoint warnings of unsafe fixes). */
  titles: string[];
  passes: number;
}

/** Fixes `text` until no applicable fix is left or the pass limit is hit; the input is never modified. */
export async function fixText(text: string, filePath: string, options: LintOptions, fix: FixOptions): Promise<FixOutcome> {
  let current = text;
  let fixesApplied = 0;
  let passes = 0;
  const titles: string[] = [];
  let result = await lintText(current, filePath, options);
  while (passes < MAX_FIX_PASSES) {
    const fixes = result.messages.flatMap((m) => (m.fix && (fix.unsafe || m.fix.safety === "safe") ? [m.fix] : []));
    if (fixes.length === 0) break;
    const step = applyFixes(current, fixes);
    if (step.applied.length === 0 || step.text === current) break;
    passes++;
    fixesApplied += step.applied.length;
    titles.push(...step.applied.map((f) => f.title));
    current = step.text;
    result = await lintText(current, filePath, options);
    // A fix must never break the file: stop at the last text that parsed.
    if (result.messages.some((m) => m.fatal)) throw new Error(`fixes produced unparsable code in ${filePath}; nothing was written`);
  }
  return { output: current, result, fixesApplied, titles, passes };
}

interface Encoding {
  bom: Buffer;
  encode(text: string): Buffer;
}

/** The file's encoding as `decodeSource` read it: UTF-8 (BOM kept when there was one) or UTF-16 with its BOM. */
function encodingOf(bytes: Buffer): Encoding {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { bom: bytes.subarray(0, 2), encode: (t) => Buffer.from(t, "utf16le") };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { bom: bytes.subarray(0, 2), encode: (t) => Buffer.from(t, "utf16le").swap16() };
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(0, 3) : Buffer.alloc(0);
  return { bom, encode: (t) => Buffer.from(t, "utf8") };
}

/**
 * rename() replaces a file whatever its mode, so a read-only file would be rewritten silently: refuse it as a
 * plain write would. Root passes access(), hence the mode check too (a file nobody may write stays as it is).
 */
async function assertWritable(filePath: string, mode: number): Promise<void> {
  const writable = (mode & 0o222) !== 0 && (await access(filePath, constants.W_OK).then(() => true, () => false));
  if (!writable) throw new Error("the file is read-only; it was left unchanged");
}

/**
 * Replaces a file's text atomically: written to a temporary file in the same folder, then renamed over it,
 * so a crash never leaves half a file. Keeps the encoding (and BOM) and the file mode.
 */
export async function writeFileAtomic(filePath: string, text: string, originalBytes?: Buffer): Promise<void> {
  const before = originalBytes ?? (await readFile(filePath));
  const encoding = encodingOf(before);
  const mode = (await stat(filePath)).mode;
  await assertWritable(filePath, mode);
  const temp = join(dirname(filePath), `.${basename(filePath)}.bnlint-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temp, Buffer.concat([encoding.bom, encoding.encode(text)]), { flag: "wx" });
    await chmod(temp, mode & 0o7777);
    await rename(temp, filePath);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

/** Reads a file as the linter does, for fixing; undefined when it cannot be read or decoded. */
export async function readForFix(filePath: string): Promise<{ bytes: Buffer; text: string } | undefined> {
  const bytes = await readFile(filePath).catch(() => undefined);
  if (!bytes) return undefined;
  const decoded = decodeSource(bytes);
  return decoded.ok ? { bytes, text: decoded.text } : undefined;
}

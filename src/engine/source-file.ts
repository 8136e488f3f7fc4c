import { readFile, stat } from "node:fs/promises";

/** Files larger than this are reported instead of parsed (a model definition is rarely over a megabyte). */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Why a source of `bytes` is not linted under a `maxBytes` limit, or undefined when it is within it. */
export function oversizeReason(bytes: number, maxBytes: number): string | undefined {
  if (bytes <= maxBytes) return undefined;
  return `file is ${(bytes / 1048576).toFixed(1)} MB, over the ${(maxBytes / 1048576).toFixed(0)} MB limit; not linted (raise it with --max-file-size)`;
}

export type LoadedSource = { ok: true; text: string } | { ok: false; reason: string };

/** Decodes file bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM; NUL bytes mean binary. */
export function decodeSource(bytes: Uint8Array): LoadedSource {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { ok: true, text: new TextDecoder("utf-16le").decode(bytes.subarray(2)) };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { ok: true, text: new TextDecoder("utf-16be").decode(bytes.subarray(2)) };
  const probe = bytes.subarray(0, 8192);
  if (probe.includes(0)) return { ok: false, reason: "binary file (contains NUL bytes); not linted" };
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(start)) };
  } catch {
    return { ok: false, reason: "file is not valid UTF-8 (or UTF-16 with a byte order mark); not linted" };
  }
}

export async function loadSource(filePath: string, maxBytes = DEFAULT_MAX_FILE_BYTES): Promise<LoadedSource> {
  try {
    const info = await stat(filePath);
    if (info.isDirectory()) return { ok: false, reason: "is a directory" };
    const tooLarge = oversizeReason(info.size, maxBytes);
    if (tooLarge) return { ok: false, reason: tooLarge };
    return decodeSource(await readFile(filePath));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file or directory" : err.code === "EACCES" ? "permission denied" : err.message;
    return { ok: false, reason: `cannot read file: ${why}` };
  }
}

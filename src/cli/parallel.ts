/** Lints many files on worker threads (each loads its own parser); results come back in input order. */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { LintOptions } from "../engine/linter.js";
import type { LintResult } from "../engine/diagnostic.js";

/** Below this many files, starting workers (each compiles the grammar) costs more than it saves. */
export const PARALLEL_MIN_FILES = 40;

/** The compiled worker beside this module; absent when running from TypeScript sources (tests), then no threads. */
export function workerScript(): string | undefined {
  const url = new URL("./lint-worker.js", import.meta.url);
  if (!import.meta.url.endsWith(".js")) return undefined;
  const path = fileURLToPath(url);
  return existsSync(path) ? path : undefined;
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export interface Job {
  path: string;
  options: LintOptions;
}

export async function lintInWorkers(jobs: Job[], threads: number, script: string, onDone?: () => void): Promise<LintResult[]> {
  const results: LintResult[] = new Array(jobs.length);
  let next = 0;
  // Loaded here, not at the top: a run over a few files never starts a worker and should not pay for the module.
  const { Worker } = await import("node:worker_threads");
  const workers = Array.from({ length: Math.min(threads, jobs.length) }, () => new Worker(script));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolveAll, reject) => {
            const send = (): void => {
              if (next >= jobs.length) return resolveAll();
              const id = next++;
              const { ruleSet: _functions, ...options } = jobs[id].options;
              worker.postMessage({ id, path: jobs[id].path, options });
            };
            worker.on("message", (msg: { id: number; result: LintResult }) => {
              results[msg.id] = msg.result;
              onDone?.();
              send();
            });
            worker.on("error", reject);
            worker.on("exit", (code) => (code !== 0 ? reject(new Error(`lint worker exited with code ${code}`)) : undefined));
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

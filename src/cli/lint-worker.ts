/** Worker thread of the parallel run: lints the files it is sent, one message per file. */
import { parentPort } from "node:worker_threads";
import { lintFile, type LintOptions } from "../engine/linter.js";

interface Job {
  id: number;
  path: string;
  options: LintOptions;
}

parentPort?.on("message", async (job: Job) => {
  const result = await lintFile(job.path, job.options);
  parentPort!.postMessage({ id: job.id, result });
});

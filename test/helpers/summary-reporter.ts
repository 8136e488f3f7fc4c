import { writeSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

/** Prints one plain closing line, `Tests: N passed, N failed, N skipped`, that CI logs can be read by. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (m.state() === "failed" && [...m.children.allTests()].length === 0) failed++;
    }
    // Written at exit so it is the last line, after vitest's own summary.
    process.once("exit", () => writeSync(1, `\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`));
  }
}

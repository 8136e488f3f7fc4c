// Robustness sweep: worst-case inputs timed per MB against plain parsing of the same text (the baseline), and
// a larger fuzz sweep over the fixtures counting crashes. Numbers for the issue note; nothing is asserted.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { lintText } from "../dist/src/engine/linter.js";
import { parsePython } from "../dist/src/frontend/python/parser.js";
import { mutationOf } from "../test/helpers/mutations.js";

const HEADER = "import torch\nimport torch.nn as nn\n";
const model = (init, body) => `${HEADER}class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n${init}    def forward(self, x):\n${body}        return x\n`;
const fill = (unit, bytes) => unit.repeat(Math.max(1, Math.floor(bytes / unit.length)));

const MB = 1024 * 1024;
const worstCases = {
  "1 MB of assignments": () => HEADER + fill("x = 1\n", MB),
  "1 MB of model classes": () => HEADER + fill("class A(nn.Module):\n    def forward(self, x):\n        return self.bn(self.bn(x))\n", MB),
  "BatchNorm chained 20,000 times": () => model("        self.bn = nn.BatchNorm2d(3)\n", fill("        x = self.bn(x)\n", 20_000 * 23)),
  "10,000 BatchNorms declared and used": () => model(Array.from({ length: 10_000 }, (_, i) => `        self.bn${i} = nn.BatchNorm2d(3)\n`).join(""), Array.from({ length: 10_000 }, (_, i) => `        x = self.bn${i}(x)\n`).join("")),
  "2,000 classes, each doubling the work": () => HEADER + "class M0(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bn = nn.BatchNorm2d(3)\n    def forward(self, x):\n        return self.bn(x)\n" + Array.from({ length: 2000 }, (_, i) => `class M${i + 1}(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.m = M${i}()\n    def forward(self, x):\n        return self.m(self.m(x))\n`).join(""),
  "10,000 nested parentheses": () => model("        self.bn = nn.BatchNorm2d(3)\n", `        x = ${"(".repeat(10_000)}self.bn(x)${")".repeat(10_000)}\n`),
  "five nested loops of 16": () => model("        self.bn = nn.BatchNorm2d(3)\n", "        for a in range(16):\n          for b in range(16):\n            for c in range(16):\n              for d in range(16):\n                for e in range(16):\n                  x = self.bn(x)\n"),
};

async function time(fn) {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export default async function (log) {
  await parsePython("x = 1\n"); // load the grammar outside the measurements
  log("| input | size | lint | lint / parse | per MB |");
  log("|---|---|---|---|---|");
  let slowest = { name: "", perMb: 0 };
  for (const [name, make] of Object.entries(worstCases)) {
    const text = make();
    const mb = Buffer.byteLength(text) / MB;
    const parse = await time(async () => (await parsePython(text)).delete());
    const lint = await time(() => lintText(text, "bench.py", { maxFileBytes: 64 * MB }));
    const perMb = lint.ms / 1000 / Math.max(mb, 0.001);
    if (mb >= 0.1 && perMb > slowest.perMb) slowest = { name, perMb };
    log(`| ${name} | ${mb.toFixed(2)} MB | ${(lint.ms / 1000).toFixed(1)} s | ${(lint.ms / parse.ms).toFixed(1)}× | ${perMb.toFixed(1)} s/MB |`);
  }
  log(`slowest input of 0.1 MB or more: ${slowest.name}, ${slowest.perMb.toFixed(1)} s per MB`);

  const fixtures = [];
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      const f = join(d, n);
      if (statSync(f).isDirectory()) walk(f);
      else if (f.endsWith(".py")) fixtures.push(readFileSync(f, "utf8"));
    }
  };
  walk(new URL("../fixtures/", import.meta.url).pathname);
  const runs = Number(process.env.BNLINT_FUZZ_RUNS ?? 3000);
  let crashes = 0;
  let maxMs = 0;
  const sweep = await time(() =>
    fc.assert(
      fc.asyncProperty(fc.nat({ max: fixtures.length - 1 }).chain((i) => mutationOf(fixtures[i])), async (text) => {
        const t = performance.now();
        try {
          const r = await lintText(text, "fuzz.py");
          if (r.messages.some((m) => m.message.startsWith("Internal error"))) crashes++;
        } catch {
          crashes++;
        }
        maxMs = Math.max(maxMs, performance.now() - t);
      }),
      { numRuns: runs },
    ),
  );
  log(`fuzz sweep: ${runs} mutated fixtures in ${(sweep.ms / 1000).toFixed(1)} s, ${crashes} crashes, slowest ${maxMs.toFixed(0)} ms`);
}

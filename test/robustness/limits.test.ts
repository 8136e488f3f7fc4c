import { describe, expect, it } from "vitest";
import { lintText } from "../../src/index.js";
import { LIMITS } from "../../src/frontend/python/interp-support.js";

/** A model whose forward returns `expr` (with `self.bn` declared and `x` the input). */
function modelReturning(expr: string, init = "        self.bn = nn.BatchNorm2d(3)\n"): string {
  return [
    "import torch",
    "import torch.nn as nn",
    "",
    "class M(nn.Module):",
    "    def __init__(self):",
    "        super().__init__()",
    init.trimEnd(),
    "",
    "    def forward(self, x):",
    `        return ${expr}`,
    "",
  ].join("\n");
}

const ruleIds = (r: { messages: { ruleId: string | null }[] }) => r.messages.map((m) => m.ruleId);

// Analysis budgets: odd code degrades to silence with a --verbose note, never to a stack overflow.
describe("nesting budget", () => {
  const deep: [string, string][] = [
    ["10,000 nested parentheses", "(".repeat(10_000) + "self.bn(self.bn(x))" + ")".repeat(10_000)],
    ["10,000 nested calls", "self.bn(".repeat(10_000) + "x" + ")".repeat(10_000)],
    ["a 50,000-term sum", "x" + " + x".repeat(50_000)],
    ["10,000 nested lists", "[".repeat(10_000) + "x" + "]".repeat(10_000)],
    ["10,000 chained methods", "self.bn(x)" + ".relu()".repeat(10_000)],
    ["10,000 nested conditionals", "x if x else ".repeat(10_000) + "self.bn(self.bn(x))"],
  ];
  for (const [name, expr] of deep) {
    it(`${name} in forward: no finding, a note, no throw`, async () => {
      const result = await lintText(modelReturning(expr), "deep.py");
      expect(ruleIds(result)).toEqual([]);
      expect(result.notes?.join("\n")).toMatch(/nested more than \d+ levels deep/);
    });
  }

  it("10,000 nested lists in __init__: no finding, a note", async () => {
    const init = `        self.bns = ${"[".repeat(10_000)}nn.BatchNorm2d(3)${"]".repeat(10_000)}\n        self.bn = nn.BatchNorm2d(3)\n`;
    const result = await lintText(modelReturning("x", init), "deep.py");
    expect(ruleIds(result)).toEqual([]);
    expect(result.notes?.join("\n")).toMatch(/nested more than \d+ levels deep/);
  });

  it("ordinary nesting (50 levels) is still analysed: the reuse is found", async () => {
    const result = await lintText(modelReturning("(".repeat(50) + "self.bn(self.bn(x))" + ")".repeat(50)), "ok.py");
    expect(ruleIds(result)).toEqual(["reused-batchnorm"]);
    expect(result.notes ?? []).toEqual([]);
  });
});

describe("list size budget", () => {
  const growers: [string, string][] = [
    ["repetition", "        l = [nn.BatchNorm2d(3)] * 256\n        l = l * 256\n        l = l * 256\n"],
    ["doubling with +", "        l = [nn.BatchNorm2d(3)]\n        for i in range(16):\n            for j in range(16):\n                l = l + l\n"],
    ["doubling with extend", "        l = [nn.BatchNorm2d(3)]\n        for i in range(16):\n            for j in range(16):\n                l.extend(l)\n"],
    ["doubling with +=", "        l = [nn.BatchNorm2d(3)]\n        for i in range(16):\n            for j in range(16):\n                l += l\n"],
    ["doubling with a splat", "        l = [nn.BatchNorm2d(3)]\n        for i in range(16):\n            for j in range(16):\n                l = [*l, *l]\n"],
  ];
  for (const [name, init] of growers) {
    it(`a module list grown by ${name} stops at the budget with a note`, async () => {
      const result = await lintText(modelReturning("self.s(x)", `${init}        self.s = nn.Sequential(*l)\n`), "big.py");
      expect(ruleIds(result)).toEqual([]);
      expect(result.notes?.join("\n")).toMatch(/a list of more than \d+ items/);
    });
  }
});

describe("per-file step budget", () => {
  // Each class calls its submodule twice: the work doubles per class. Budgets are lowered so the test is quick;
  // the mechanism is the one that bounds a real run (LIMITS.steps per model, LIMITS.fileSteps per file).
  const classes = (n: number): string =>
    "import torch.nn as nn\n\nclass M0(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bn = nn.BatchNorm2d(3)\n\n    def forward(self, x):\n        return self.bn(x)\n" +
    Array.from({ length: n }, (_, i) => `\nclass M${i + 1}(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.m = M${i}()\n\n    def forward(self, x):\n        return self.m(self.m(x))\n`).join("");

  it("many expensive classes stop at the file budget with a note, earlier findings kept", async () => {
    const saved = { ...LIMITS };
    LIMITS.steps = 20_000;
    LIMITS.fileSteps = 60_000;
    try {
      const result = await lintText(classes(40), "exp.py");
      expect(result.notes?.join("\n")).toMatch(/more than 60000 evaluation steps in this file/);
      // M1 (two chained calls of M0's bn) was analysed before the budget ran out.
      expect(result.messages.some((m) => m.ruleId === "reused-batchnorm" && m.message.includes("`M1`"))).toBe(true);
      expect(result.messages.some((m) => m.message.includes("`M40`"))).toBe(false);
    } finally {
      Object.assign(LIMITS, saved);
    }
  });
});

describe("findings on generated code stay linear", () => {
  it("a BatchNorm chained 2,000 times: one finding per call after the compared runs, short lists", async () => {
    const text = modelReturning("x", undefined).replace("        return x\n", "        x = self.bn(x)\n".repeat(2000) + "        return x\n");
    const result = await lintText(text, "chain.py");
    const reused = result.messages.filter((m) => m.ruleId === "reused-batchnorm");
    expect(reused.length).toBeGreaterThan(100);
    for (const m of reused) {
      expect(m.message).toMatch(/runs 2000 times .*lines 1\d, 1\d, .* and 1990 more\)/);
      expect(m.related.length).toBeLessThanOrEqual(12);
    }
  });
});

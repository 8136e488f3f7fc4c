// Forward graphs are built only for classes whose text reaches a BatchNorm (src/frontend/python/batchnorm-reach.ts).
// The pruning must never lose a finding: BatchNorm reaching a class through a helper, an import alias, a global,
// a base class or a module-level `try` still gives the finding; classes that only test for BatchNorm are skipped.
import { describe, expect, it } from "vitest";
import { parsePython } from "../../src/frontend/python/parser.js";
import { indexPython } from "../../src/frontend/python/indexer.js";
import { classesReachingBatchNorm } from "../../src/frontend/python/batchnorm-reach.js";
import { lintText } from "../../src/engine/linter.js";

async function reaching(code: string): Promise<string[]> {
  const tree = await parsePython(code);
  try {
    const index = indexPython("<text>", code, tree);
    return [...classesReachingBatchNorm(index)].map((c) => c.name).sort();
  } finally {
    tree.delete();
  }
}

async function reuseLines(code: string): Promise<number[]> {
  const result = await lintText(code, "model.py");
  return result.messages.filter((m) => m.ruleId === "reused-batchnorm").map((m) => m.range.start.line);
}

/** A model that calls `self.bn` twice; `make` is how it gets its BatchNorm. */
function reusing(make: string, prelude: string): string {
  return `import torch.nn as nn
${prelude}

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3)
        self.conv2 = nn.Conv2d(16, 16, 3)
        self.bn = ${make}

    def forward(self, x):
        x = self.bn(self.conv1(x))
        return self.bn(self.conv2(x))
`;
}

describe("classes reaching a BatchNorm", () => {
  it("skips classes that mention BatchNorm only in comments, docstrings, type tests and error messages", async () => {
    const code = `import torch.nn as nn

class Attention(nn.Module):
    """Unlike BatchNorm, LayerNorm normalises each token."""
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(64)  # not BatchNorm
        self.transpose = isinstance(self.norm, (nn.BatchNorm1d, nn.BatchNorm2d))

    def forward(self, x):
        if x.dim() != 3:
            raise ValueError("BatchNorm1d expects 3-d input here")
        return self.norm(x)

class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(x)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Stem()
        self.attn = Attention()

    def forward(self, x):
        return self.attn(self.stem(x).flatten(2))
`;
    expect(await reaching(code)).toEqual(["Net", "Stem"]);
  });

  it("follows helpers, globals, import aliases, base classes and module-level compound statements", async () => {
    const code = `import torch.nn as nn
from torch.nn import BatchNorm2d as BN
try:
    from apex.parallel import SyncBatchNorm as Norm
except ImportError:
    Norm = nn.BatchNorm2d
DEFAULT_NORM = nn.BatchNorm2d

def conv_bn(c):
    return nn.Sequential(nn.Conv2d(c, c, 3), nn.BatchNorm2d(c))

class ByHelper(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = conv_bn(8)
    def forward(self, x):
        return self.block(x)

class ByAlias(nn.Module):
    def __init__(self):
        super().__init__()
        self.n = BN(8)
    def forward(self, x):
        return self.n(x)

class ByGlobal(nn.Module):
    def __init__(self, norm=DEFAULT_NORM):
        super().__init__()
        self.n = norm(8)
    def forward(self, x):
        return self.n(x)

class ByTry(nn.Module):
    def __init__(self):
        super().__init__()
        self.n = Norm(8)
    def forward(self, x):
        return self.n(x)

class ByBase(ByAlias):
    def forward(self, x):
        return self.n(x) + 1

class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
    def forward(self, x):
        return self.fc(x)
`;
    expect(await reaching(code)).toEqual(["ByAlias", "ByBase", "ByGlobal", "ByHelper", "ByTry"]);
  });

  it("keeps every reuse finding when the BatchNorm comes from a helper, an alias, a global or a try block", async () => {
    const helper = "def make_bn(c):\n    return nn.BatchNorm2d(c)\n";
    expect(await reuseLines(reusing("make_bn(16)", helper))).toEqual([15]);
    expect(await reuseLines(reusing("Norm(16)", "from torch.nn import BatchNorm2d as Norm"))).toEqual([13]);
    expect(await reuseLines(reusing("NORM(16)", "NORM = nn.BatchNorm2d"))).toEqual([13]);
    const tryBlock = "try:\n    from apex.parallel import SyncBN as Norm\nexcept ImportError:\n    Norm = nn.BatchNorm2d\n";
    expect(await reuseLines(reusing("Norm(16)", tryBlock))).toEqual([17]);
  });
});

import { describe, expect, it } from "vitest";
import { collectBatchNorms, formatShape, hoverAt } from "../../src/lsp/hover.js";
import { symAtom, symConst, symMul } from "../../src/model/symbolic.js";

const text = [
  "import torch.nn as nn",
  "",
  "class Block(nn.Module):",
  "    def __init__(self, planes):",
  "        super().__init__()",
  "        self.conv = nn.Conv2d(planes, planes, 3)",
  "        self.bn = nn.BatchNorm2d(planes)",
  "",
  "    def forward(self, x):",
  "        return self.bn(self.conv(x))",
  "",
  "class Net(nn.Module):",
  "    def __init__(self):",
  "        super().__init__()",
  "        self.a = Block(16)",
  "        self.b = Block(16)",
  "",
  "    def forward(self, x):",
  "        return self.b(self.a(x))",
  "",
].join("\n");


describe("hover", () => {
  it("lists the runs of a submodule's BatchNorm in each model that reaches it", async () => {
    const infos = await collectBatchNorms(text, "/m.py");
    const at = text.indexOf("self.bn(self.conv") + 6;
    const value = (hoverAt(infos, at)!.contents as { value: string }).value;
    expect(value).toContain("**`self.bn`** · `BatchNorm2d(planes)` · declared at line 7");
    expect(value).toContain("- `Block`: once (line 10)");
    expect(value).toContain("- `Net` as `self.a.bn`: once (line 10)");
    expect(value).toContain("- `Net` as `self.b.bn`: once (line 10)");
    expect(hoverAt(infos, text.indexOf("self.conv(x)") + 6)).toBeUndefined();
  });

  it("says nothing for text that does not parse", async () => {
    expect(await collectBatchNorms(`${text}\nclass Half(nn.Module:\n`, "/m.py")).toEqual([]);
  });

  it("prints symbolic shapes with unknown dims as ?", () => {
    expect(formatShape({ dims: [undefined, symMul(symAtom("planes"), symConst(4)), symConst(32), undefined] })).toBe("[?, planes * 4, 32, ?]");
  });
});

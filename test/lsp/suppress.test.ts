import { describe, expect, it } from "vitest";
import { disableForFile, disableForLine } from "../../src/lsp/suppress.js";

describe("suppression comment edits", () => {
  it("appends a line directive after the code, or extends the one already there", () => {
    const text = "x = self.bn(x)   \ny = self.bn(y)  # bnlint: disable=unused-batchnorm\r\n";
    expect(disableForLine(text, 0, "reused-batchnorm")).toEqual({ line: 0, character: 14, text: "  # bnlint: disable=reused-batchnorm" });
    expect(disableForLine(text, 1, "reused-batchnorm")).toEqual({ line: 1, character: 50, text: ",reused-batchnorm" });
    expect(disableForLine(text, 1, "unused-batchnorm")).toBeUndefined();
    expect(disableForLine(text, 9, "unused-batchnorm")).toBeUndefined();
  });

  it("puts the file directive first, below a shebang and an encoding line, or extends an existing one", () => {
    expect(disableForFile("import torch\n", "reused-batchnorm")).toEqual({ line: 0, character: 0, text: "# bnlint: disable-file=reused-batchnorm\n" });
    expect(disableForFile("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport torch\n", "reused-batchnorm")?.line).toBe(2);
    expect(disableForFile("# coding=latin-1\nimport torch\n", "reused-batchnorm")?.line).toBe(1);
    const existing = '"""Doc."""\n# bnlint: disable-file=unused-batchnorm\nimport torch\n';
    expect(disableForFile(existing, "reused-batchnorm")).toEqual({ line: 1, character: 39, text: ",reused-batchnorm" });
    expect(disableForFile(existing, "unused-batchnorm")).toBeUndefined();
  });
});

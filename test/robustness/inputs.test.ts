import { describe, expect, it } from "vitest";
import { lintText } from "../../src/index.js";
import { decodeSource } from "../../src/engine/source-file.js";

const HEADER = "import torch\nimport torch.nn as nn\n\n";
const REUSE_MODEL = [
  "class M(nn.Module):",
  "    def __init__(self):",
  "        super().__init__()",
  "        self.bn = nn.BatchNorm2d(3)",
  "",
  "    def forward(self, x):",
  "        x = self.bn(x)",
  "        return self.bn(x)",
  "",
].join("\n");

const findings = (r: { messages: { ruleId: string | null; range: { start: { line: number } } }[] }) =>
  r.messages.map((m) => `${m.range.start.line}:${m.ruleId ?? "fatal"}`);

// Odd but possible inputs: each gives findings or one fatal diagnostic, never an exception.
describe("odd inputs to lintText", () => {
  it("refuses text over maxFileBytes (50 MB) unparsed with one fatal message", async () => {
    const text = HEADER + "x = 1\n".repeat((50 * 1024 * 1024) / 6);
    const result = await lintText(text, "huge.py");
    expect(result.messages).toHaveLength(1);
    expect(result.messages[0]).toMatchObject({ ruleId: null, fatal: true, severity: 2 });
    expect(result.messages[0].message).toMatch(/50\.0 MB, over the 5 MB limit/);
  });

  it("honours a raised maxFileBytes", async () => {
    const text = HEADER + REUSE_MODEL + "#".repeat(2 * 1024 * 1024);
    expect(findings(await lintText(text, "m.py", { maxFileBytes: 1024 * 1024 }))).toEqual(["1:fatal"]);
    expect(findings(await lintText(text, "m.py", { maxFileBytes: 3 * 1024 * 1024 }))).toEqual(["11:reused-batchnorm"]);
  });

  for (const [name, text] of [["empty", ""], ["whitespace only", " \n\t\n\r\n   "], ["only a header", HEADER]] as const) {
    it(`${name}: no messages`, async () => {
      expect((await lintText(text, "e.py")).messages).toEqual([]);
    });
  }

  it("NUL bytes inside the text: a parse error, not a crash", async () => {
    const result = await lintText(HEADER + "\0\0\0" + REUSE_MODEL, "nul.py");
    expect(findings(result)).toEqual(["4:fatal"]);
  });

  it("lone surrogates in strings and comments are linted", async () => {
    expect(findings(await lintText(HEADER + "s = '\uD800'  # \uDFFF\n" + REUSE_MODEL, "s.py"))).toEqual(["12:reused-batchnorm"]);
  });

  it("CRLF, lone CR, tabs and mixed line endings give the same finding lines", async () => {
    const crlf = (HEADER + REUSE_MODEL).replace(/\n/g, "\r\n");
    expect(findings(await lintText(crlf, "crlf.py"))).toEqual(["11:reused-batchnorm"]);
    const mixed = (HEADER + REUSE_MODEL).split("\n").map((l, i) => l + (i % 2 ? "\r\n" : "\n")).join("").replace(/ {4}/g, "\t");
    expect(findings(await lintText(mixed, "mixed.py"))).toEqual(["11:reused-batchnorm"]);
  });

  it("decodes UTF-16 with a BOM and refuses invalid UTF-8 and binary data", () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER + REUSE_MODEL, "utf16le")]);
    expect(decodeSource(utf16)).toEqual({ ok: true, text: HEADER + REUSE_MODEL });
    expect(decodeSource(Buffer.from([0x69, 0x6d, 0xc3, 0x28]))).toMatchObject({ ok: false, reason: expect.stringMatching(/not valid UTF-8/) });
    expect(decodeSource(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]))).toMatchObject({ ok: false, reason: expect.stringMatching(/binary/) });
  });

  it("IPython magics pasted from a notebook (`%matplotlib inline`, `!pip install`) are skipped, at the same positions", async () => {
    const text = "!pip install torch\n%matplotlib inline\n" + HEADER + REUSE_MODEL;
    const result = await lintText(text, "from_notebook.py");
    expect(findings(result)).toEqual(["13:reused-batchnorm"]);
    expect(result.source ?? text).toBe(text);
  });

  it("a `%` starting a line of valid Python is modulo, and a real syntax error is still reported where it is", async () => {
    const valid = HEADER + "y = (7\n     % 2)\n" + REUSE_MODEL;
    expect(findings(await lintText(valid, "modulo.py"))).toEqual(["13:reused-batchnorm"]);
    const broken = "%matplotlib inline\n" + HEADER + "def f(:\n    pass\n";
    const result = await lintText(broken, "broken.py");
    expect(result.messages.map((m) => [m.fatal, m.range.start.line])).toEqual([[true, 5]]);
  });

  it("Python 2 syntax: a parse error or silence, never a guess", async () => {
    const py2 = HEADER + "print 'hello'\nexec 'x = 1'\n" + REUSE_MODEL.replace("        return self.bn(x)", "        print x\n        raise ValueError, 'no'");
    const result = await lintText(py2, "py2.py");
    expect(result.messages.every((m) => m.fatal)).toBe(true);
  });

  it("blocks nested deeper than Python allows: the IndentationError's line, not line 1", async () => {
    // CPython: "too many levels of indentation" at the 101st nested `if` (line 104 here, as CPython reports); 99 still compile.
    const nested = (depth: number) => HEADER + Array.from({ length: depth }, (_, i) => `${" ".repeat(i)}if x:\n`).join("") + `${" ".repeat(depth)}pass\n`;
    const headerLines = HEADER.split("\n").length - 1;
    const result = await lintText(nested(2000), "deep.py");
    expect(result.messages.map((m) => [m.range.start.line, m.message])).toEqual([
      [headerLines + 101, "Parsing error: too many levels of indentation (Python allows 100, the top level included); the file was not analysed"],
    ]);
    expect((await lintText(nested(99), "ok.py")).messages.filter((m) => /indentation/.test(m.message))).toEqual([]);
  });

  it("Python 3.12 syntax (PEP 695 generics, match, nested f-strings) keeps the real finding", async () => {
    const py312 = HEADER + "type Pair[T] = tuple[T, T]\n\n" + REUSE_MODEL.replace("class M(nn.Module):", "class M[T](nn.Module):").replace(
      "        return self.bn(x)",
      "        match x:\n            case [a, *rest]:\n                print(f\"{f'{a!r:>{10}}'}\")\n            case _:\n                pass\n        return self.bn(x)",
    );
    expect(findings(await lintText(py312, "py312.py"))).toEqual(["18:reused-batchnorm"]);
  });

  it("helpers that call each other (a → b → a) terminate", async () => {
    const text = HEADER + REUSE_MODEL.replace(
      "    def forward(self, x):",
      "    def a(self, x):\n        return self.b(self.bn(x))\n\n    def b(self, x):\n        return self.a(x)\n\n    def forward(self, x):\n        self.a(x)",
    );
    const result = await lintText(text, "rec.py");
    expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  });

  it("classes that inherit from themselves through aliases terminate", async () => {
    const text = HEADER + "A = M\nclass M(A):\n    def forward(self, x):\n        return x\n\nB = N\nclass N(nn.Module, B):\n    pass\n\nclass K(K):\n    def forward(self, x):\n        return self.k(x)\n" + REUSE_MODEL;
    expect(findings(await lintText(text, "alias.py"))).toEqual(["23:reused-batchnorm"]);
  });

  it("a module attribute assigned in a loop a million times", async () => {
    const text = HEADER + REUSE_MODEL.replace("        self.bn = nn.BatchNorm2d(3)", "        for i in range(1000000):\n            self.bn = nn.BatchNorm2d(3)");
    const result = await lintText(text, "loop.py");
    expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  });
});

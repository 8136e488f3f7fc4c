// Generators of broken and odd Python source for the robustness tests (test/robustness/fuzz.test.ts) and the
// larger sweep (bench/robustness.bench.js). Plain JS so both vitest and the compiled bench can import it.
import fc from "fast-check";

/** Characters that change Python's structure when they appear in the wrong place. */
const STRUCTURAL = ["(", ")", "[", "]", "{", "}", ":", ",", "'", '"', '"""', "\\", "\n", "\r", "\t", "    ", "#", "\0", "@", "=", "*", "**", ".", "\uFEFF", "\uD800", "é", "ℕ"];

/** Python-ish tokens: identifiers, numbers, strings, operators, whitespace runs. */
export function tokenize(text) {
  return text.match(/[A-Za-z_]\w*|\d+(?:\.\d+)?|"""[\s\S]*?"""|'[^'\n]*'|"[^"\n]*"|\r?\n[ \t]*|[ \t]+|[^\s\w]/g) ?? [];
}

/** Cuts the text at a random point. */
export const truncation = (text) => fc.nat({ max: text.length }).map((n) => text.slice(0, n));

/** Replaces up to 8 characters with structural characters or random ones (any UTF-16 unit). */
export const byteFlips = (text) =>
  fc
    .array(fc.tuple(fc.nat({ max: Math.max(0, text.length - 1) }), fc.oneof(fc.constantFrom(...STRUCTURAL), fc.string({ unit: "binary", minLength: 1, maxLength: 2 }))), { minLength: 1, maxLength: 8 })
    .map((flips) => {
      let out = text;
      for (const [at, by] of flips) out = out.slice(0, at) + by + out.slice(at + 1);
      return out;
    });

/** Swaps pairs of tokens, or moves a run of tokens elsewhere. */
export const tokenShuffles = (text) => {
  const tokens = tokenize(text);
  const n = Math.max(1, tokens.length);
  return fc
    .array(fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 }), fc.nat({ max: 12 })), { minLength: 1, maxLength: 6 })
    .map((moves) => {
      const t = [...tokens];
      for (const [a, b, len] of moves) {
        if (len === 0) [t[a], t[b]] = [t[b], t[a]];
        else t.splice(b, 0, ...t.splice(a, len));
      }
      return t.join("");
    });
};

/** Deletes, duplicates or re-indents whole lines. */
export const lineEdits = (text) => {
  const lines = text.split("\n");
  const n = Math.max(1, lines.length);
  return fc
    .array(fc.tuple(fc.constantFrom("delete", "duplicate", "indent", "dedent"), fc.nat({ max: n - 1 })), { minLength: 1, maxLength: 6 })
    .map((edits) => {
      const l = [...lines];
      for (const [op, i] of edits) {
        if (i >= l.length) continue;
        if (op === "delete") l.splice(i, 1);
        else if (op === "duplicate") l.splice(i, 0, l[i]);
        else if (op === "indent") l[i] = "    " + l[i];
        else l[i] = l[i].replace(/^ {1,4}/, "");
      }
      return l.join("\n");
    });
};

/** Any one of the mutations above, applied to `text`. */
export const mutationOf = (text) => fc.oneof(truncation(text), byteFlips(text), tokenShuffles(text), lineEdits(text));

/**
 * Structure-aware inputs that stress the analysis rather than the parser: model classes whose __init__ and
 * forward are built from random mixes of BatchNorm declarations, calls, loops, branches, helpers and containers.
 */
export const generatedModel = fc
  .record({
    bns: fc.integer({ min: 1, max: 4 }),
    body: fc.array(
      fc.oneof(
        fc.nat({ max: 3 }).map((i) => `x = self.bn${i}(x)`),
        fc.nat({ max: 3 }).map((i) => `x = self.helper(self.bn${i}(x))`),
        fc.tuple(fc.integer({ min: 0, max: 40 }), fc.nat({ max: 3 })).map(([n, i]) => `for _ in range(${n}):\n    x = self.bn${i}(x)`),
        fc.nat({ max: 3 }).map((i) => `if x.sum() > 0:\n    x = self.bn${i}(x)\nelse:\n    x = self.seq(x)`),
        fc.constant("x = self.seq(x)"),
        fc.constant("x = torch.cat([x, x], 1)"),
        fc.constant("x = F.relu(x)"),
        fc.constant("x = self.helper(x)"),
        fc.constant("x = getattr(self, 'bn0')(x)"),
        fc.constant("while x.mean() > 0:\n    x = self.bn0(x)"),
        fc.constant("x = self.layers[0](x)"),
        fc.constant("for layer in self.layers:\n    x = layer(x)"),
      ),
      { maxLength: 12 },
    ),
    seq: fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 4 }),
    helperCallsForward: fc.boolean(),
  })
  .map(({ bns, body, seq, helperCallsForward }) => {
    const indent = (s, n) => s.split("\n").map((l) => " ".repeat(n) + l).join("\n");
    return [
      "import torch",
      "import torch.nn as nn",
      "import torch.nn.functional as F",
      "",
      "class Net(nn.Module):",
      "    def __init__(self, planes):",
      "        super().__init__()",
      ...Array.from({ length: 4 }, (_, i) => `        self.bn${i} = nn.BatchNorm2d(planes${i < bns ? "" : " * 2"})`),
      `        self.seq = nn.Sequential(${seq.map((i) => `self.bn${i}`).join(", ")})`,
      "        self.layers = nn.ModuleList([nn.BatchNorm2d(planes) for _ in range(3)])",
      "",
      "    def helper(self, x):",
      helperCallsForward ? "        return self.forward(x)" : "        return self.bn0(x)",
      "",
      "    def forward(self, x):",
      ...body.map((s) => indent(s, 8)),
      "        return x",
      "",
    ].join("\n");
  });

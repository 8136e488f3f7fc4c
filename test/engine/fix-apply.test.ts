import { describe, expect, it } from "vitest";
import { applyFixes } from "../../src/engine/fix-apply.js";
import type { Fix } from "../../src/engine/diagnostic.js";

const fix = (title: string, ...edits: [number, number, string][]): Fix => ({ title, safety: "unsafe", edits: edits.map(([s, e, text]) => ({ range: [s, e], text })) });

describe("applyFixes", () => {
  it("applies non-overlapping fixes in position order, each with all its edits", () => {
    const out = applyFixes("abcdefgh", [fix("second", [6, 7, "G"]), fix("first", [0, 1, "A"], [3, 3, "+"])]);
    expect(out.text).toBe("Abc+defGh");
    expect(out.applied.map((f) => f.title)).toEqual(["first", "second"]);
  });

  it("keeps insertions at one point in the order of the fixes", () => {
    const out = applyFixes("x\n", [fix("a", [1, 1, "\n1"], [0, 1, "y"]), fix("b", [1, 1, "\n2"])]);
    expect(out.text).toBe("y\n1\n2\n");
  });

  it("defers a fix that overlaps one already taken, whole", () => {
    const out = applyFixes("abcdef", [fix("a", [1, 4, "X"]), fix("b", [3, 5, "Y"], [6, 6, "!"])]);
    expect(out.text).toBe("aXef");
    expect(out.deferred.map((f) => f.title)).toEqual(["b"]);
  });

  it("refuses edits outside the text", () => {
    const out = applyFixes("abc", [fix("bad", [2, 9, "z"])]);
    expect(out.text).toBe("abc");
    expect(out.applied).toEqual([]);
  });
});

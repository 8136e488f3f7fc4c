import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { rules } from "../rules/index.js";
import { lintText } from "../src/index.js";
import { updateReadme } from "../src/docs/render.js";
import { VERSION } from "../src/version.js";

const repo = new URL("../", import.meta.url).pathname;

describe("rule metadata", () => {
  it("registry lists every rule file, sorted by id", () => {
    const files = readdirSync(`${repo}rules`).filter((f) => f.endsWith(".ts") && f !== "index.ts").map((f) => f.replace(/\.ts$/, "")).sort();
    expect(rules.map((r) => r.meta.id)).toEqual(files);
  });

  for (const rule of rules) {
    describe(rule.meta.id, () => {
      it("has every docs section filled", () => {
        const d = rule.meta.docs;
        for (const text of [rule.meta.description, d.whatItDoes, d.whyIsThisBad, d.example.bad, d.example.good, d.fix, d.knownLimitations]) {
          expect(text.trim().length).toBeGreaterThan(10);
        }
      });

      it("fires on its bad example and stays silent on its good one", async () => {
        const bad = await lintText(rule.meta.docs.example.bad, "bad.py", { ruleSet: [rule], rules: { [rule.meta.id]: "error" } });
        const good = await lintText(rule.meta.docs.example.good, "good.py", { ruleSet: [rule], rules: { [rule.meta.id]: "error" } });
        expect(bad.messages.map((m) => m.ruleId)).toContain(rule.meta.id);
        expect(good.messages).toEqual([]);
      });

      it("has a fixture folder", () => {
        expect(existsSync(`${repo}fixtures/${rule.meta.id}`)).toBe(true);
      });
    });
  }

  it("README's generated rules section is current (run `npm run docs`)", () => {
    const readme = readFileSync(`${repo}README.md`, "utf8");
    expect(updateReadme(readme, rules)).toBe(readme);
  });

  it("src/version.ts matches package.json", () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(`${repo}package.json`, "utf8")).version);
  });
});

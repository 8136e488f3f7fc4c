// A crashing rule, driven through the real server in-process (the only way to add a rule to it).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { createConnection, DidOpenTextDocumentNotification } from "vscode-languageserver/node";
import { startServer } from "../../src/lsp/server.js";
import { rules } from "../../rules/index.js";
import { defineRule } from "../../src/rule.js";
import { startInProcessClient } from "../helpers/lsp-client.js";

const SEED = new URL("../../fixtures/seed/keras_cifar2.py", import.meta.url).pathname;

const crashingRule = defineRule({
  meta: {
    id: "aaa-crashes",
    defaultSeverity: "error",
    description: "Throws on every file.",
    frameworks: ["torch"],
    messages: { never: "never" },
    docs: { whatItDoes: "", whyIsThisBad: "", example: { bad: "", good: "" }, fix: "", knownLimitations: "" },
  },
  check() {
    throw new Error("index out of range in a test rule");
  },
});

describe("bnlint lsp robustness", () => {
  it("logs a crashing rule and still publishes the other rules' findings", async () => {
    const client = await startInProcessClient((reader, writer) => {
      const connection = createConnection(reader, writer);
      startServer(connection, { ruleSet: [crashingRule, ...rules] });
      return connection;
    });
    try {
      const uri = pathToFileURL(SEED).href;
      client.open(uri, readFileSync(SEED, "utf8"));
      const p = await client.waitForDiagnostics(uri);
      expect([...new Set(p.diagnostics.map((d) => d.code))].sort()).toEqual(["batchnorm-on-logits", "reused-batchnorm", "unused-batchnorm"]);
      expect(p.diagnostics).toHaveLength(7);
      expect(client.logs.some((l) => l.includes("Internal error in rule aaa-crashes: index out of range in a test rule"))).toBe(true);
    } finally {
      await client.stop();
    }
  });
});

describe("bnlint lsp malformed documents", () => {
  it("logs a didOpen without text instead of an internal error, and goes on linting other documents", async () => {
    const client = await startInProcessClient((reader, writer) => {
      const connection = createConnection(reader, writer);
      startServer(connection);
      return connection;
    });
    try {
      const broken = "file:///tmp/no_text.py";
      await client.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: broken, languageId: "python", version: 1 } } as never);
      const uri = pathToFileURL(SEED).href;
      client.open(uri, readFileSync(SEED, "utf8"));
      expect((await client.waitForDiagnostics(uri)).diagnostics).toHaveLength(7);
      expect(client.logs.some((l) => l.includes("no_text.py: the client sent no text for this document; not linted"))).toBe(true);
      expect(client.logs.some((l) => /internal error/i.test(l))).toBe(false);
    } finally {
      await client.stop();
    }
  });
});

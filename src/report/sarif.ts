import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import type { Formatter, FormatContext } from "./formatter.js";
import type { Diagnostic, Fix, LintResult } from "../engine/diagnostic.js";
import type { Rule } from "../rule.js";
import { positionAt, type SourceRange } from "../model/source.js";
import { renderRuleDoc } from "../docs/render.js";
import { VERSION } from "../version.js";
import { displayPath } from "./paths.js";

const SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const FINGERPRINT_KEY = "bnlintFindingHash/v1";
/** Problems with suppression comments themselves (ESLint gives them no rule id); SARIF results need one. */
const DIRECTIVE_RULE_ID = "bnlint-directive";

function level(severity: Rule["meta"]["defaultSeverity"]): "error" | "warning" | "none" {
  return severity === "error" ? "error" : severity === "warning" ? "warning" : "none";
}

function ruleDescriptor(rule: Rule): Record<string, unknown> {
  const d = rule.meta.docs;
  return {
    id: rule.meta.id,
    name: rule.meta.id.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase()),
    shortDescription: { text: rule.meta.description },
    fullDescription: { text: `${d.whatItDoes} ${d.whyIsThisBad}` },
    help: { text: `${d.fix} Known limitations: ${d.knownLimitations}`, markdown: renderRuleDoc(rule, 2) },
    defaultConfiguration: { level: level(rule.meta.defaultSeverity) },
    properties: { tags: ["correctness", ...rule.meta.frameworks], fixable: rule.meta.fixable ?? "no" },
  };
}

function region(range: SourceRange): Record<string, number> {
  return { startLine: range.start.line, startColumn: range.start.column, endLine: range.end.line, endColumn: range.end.column };
}

function artifact(uri: string): Record<string, string> {
  return { uri, uriBaseId: "SRCROOT" };
}

function sarifFix(fix: Fix, uri: string, source: string | undefined): Record<string, unknown> | undefined {
  if (source === undefined) return undefined;
  const replacements = [...fix.edits]
    .sort((a, b) => a.range[0] - b.range[0])
    .map((e) => {
      const start = positionAt(source, e.range[0]);
      const end = positionAt(source, e.range[1]);
      return {
        deletedRegion: { startLine: start.line, startColumn: start.column, endLine: end.line, endColumn: end.column },
        insertedContent: { text: e.text },
      };
    });
  return { description: { text: `${fix.title} (${fix.safety} fix)` }, artifactChanges: [{ artifactLocation: artifact(uri), replacements }] };
}

/** Stable across line moves: rule id, model class and module path, plus an ordinal for repeats of that triple. */
function fingerprint(m: Diagnostic, uri: string, seen: Map<string, number>): string {
  const base = [m.ruleId ?? DIRECTIVE_RULE_ID, uri, m.model ?? "", m.modulePath ?? "", m.model || m.modulePath ? "" : m.message].join("\u0000");
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  return `${createHash("sha256").update(base).digest("hex").slice(0, 32)}:${n}`;
}

function resultsOf(result: LintResult, uri: string, ruleIndex: Map<string, number>): Record<string, unknown>[] {
  const seen = new Map<string, number>();
  // Suppressed findings are kept with their in-source suppression, so code scanning shows them as dismissed.
  return [...result.messages, ...result.suppressedMessages]
    .filter((m) => !m.fatal)
    .map((m) => {
      const fixes = [m.fix, ...(m.suggestions ?? [])]
        .filter((f): f is Fix => f !== undefined)
        .map((f) => sarifFix(f, uri, result.source))
        .filter((f) => f !== undefined);
      const related = m.related.map((r, i) => ({ id: i + 1, message: { text: r.message }, physicalLocation: { artifactLocation: artifact(uri), region: region(r.range) } }));
      const ruleId = m.ruleId ?? DIRECTIVE_RULE_ID;
      const index = ruleIndex.get(ruleId);
      return {
        ruleId,
        ...(index !== undefined ? { ruleIndex: index } : {}),
        level: m.severity === 2 ? "error" : "warning",
        message: { text: m.message },
        locations: [{ physicalLocation: { artifactLocation: artifact(uri), region: region(m.range) } }],
        ...(related.length ? { relatedLocations: related } : {}),
        partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(m, uri, seen) },
        ...(fixes.length ? { fixes } : {}),
        ...(m.suppressions?.length ? { suppressions: m.suppressions.map((s) => ({ kind: "inSource", status: "accepted", ...(s.justification ? { justification: s.justification } : {}) })) } : {}),
      };
    });
}

/** SARIF 2.1.0 for code scanning: one run, every rule in tool.driver, fatal problems as tool notifications. */
export const sarif: Formatter = (results: LintResult[], context: FormatContext) => {
  const ruleIndex = new Map(context.rules.map((r, i) => [r.meta.id, i]));
  const sarifResults: Record<string, unknown>[] = [];
  const notifications: Record<string, unknown>[] = [];
  for (const result of results) {
    const uri = encodeURI(displayPath(result.filePath, context.cwd));
    sarifResults.push(...resultsOf(result, uri, ruleIndex));
    for (const m of result.messages.filter((x) => x.fatal)) {
      notifications.push({
        level: "error",
        message: { text: m.message },
        locations: [{ physicalLocation: { artifactLocation: artifact(uri), region: region(m.range) } }],
      });
    }
  }
  const log = {
    $schema: SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "bnlint", version: VERSION, semanticVersion: VERSION, rules: context.rules.map(ruleDescriptor) } },
        originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(context.cwd.endsWith("/") ? context.cwd : `${context.cwd}/`).href } },
        invocations: [{ executionSuccessful: notifications.length === 0, toolExecutionNotifications: notifications }],
        results: sarifResults,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
};

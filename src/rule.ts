/** The only module a rule imports: its types, `defineRule`, and the model queries rules share. */
import type { SourceRange } from "./model/source.js";
import type { Framework, ModelIndex } from "./model/index-types.js";
import type { FileAnalysis } from "./model/analysis.js";

export type RuleSeverity = "error" | "warning" | "off";
export type FixSafety = "safe" | "unsafe";

/** Documentation under Ruff's headings; README, `--explain`, SARIF help and LSP links are generated from it. */
export interface RuleDocs {
  whatItDoes: string;
  whyIsThisBad: string;
  example: { bad: string; good: string };
  fix: string;
  knownLimitations: string;
}

export interface RuleMeta<MessageId extends string = string> {
  id: string;
  defaultSeverity: RuleSeverity;
  description: string;
  frameworks: Framework[];
  /** Message templates with `{{name}}` placeholders, filled from `data`. */
  messages: Record<MessageId, string>;
  /** Whether the rule offers automatic fixes, and how safe they are. */
  fixable?: FixSafety;
  hasSuggestions?: boolean;
  docs: RuleDocs;
}

export interface TextEdit {
  range: [number, number];
  text: string;
}

export interface FixDescriptor {
  title: string;
  safety: FixSafety;
  edits: TextEdit[];
}

export interface RelatedInfo {
  message: string;
  at: SourceRange;
}

export interface ReportDescriptor<MessageId extends string = string> {
  messageId: MessageId;
  data?: Record<string, string | number>;
  at: SourceRange;
  related?: RelatedInfo[];
  fix?: FixDescriptor;
  suggestions?: FixDescriptor[];
  /** For stable fingerprints (SARIF) and the executor: which model and module path the finding is about. */
  model?: string;
  modulePath?: string;
  /**
   * What the finding is about, when several distinct findings of a rule can share a range (two BatchNorms of one
   * nn.Sequential reused at one call): reports are merged per rule, range and this key (by default, range only).
   */
  subject?: string | number;
}

export interface RuleContext<MessageId extends string = string> {
  readonly filePath: string;
  readonly text: string;
  readonly index: ModelIndex;
  readonly analysis: FileAnalysis;
  report(descriptor: ReportDescriptor<MessageId>): void;
}

export interface Rule<MessageId extends string = string> {
  meta: RuleMeta<MessageId>;
  check(context: RuleContext<MessageId>): void;
}

/** Identity function that lets TypeScript check message ids against `meta.messages`. */
export function defineRule<MessageId extends string>(rule: Rule<MessageId>): Rule<MessageId> {
  return rule;
}

export type { SourceRange } from "./model/source.js";
export type { ExtraArg, ForwardGraph, GraphNode } from "./model/graph.js";
export type { ModelClass, ModelIndex } from "./model/index-types.js";
export type { ModuleInstance } from "./model/values.js";
export type { Sym } from "./model/symbolic.js";
export * as queries from "./model/queries.js";
export * as knowledge from "./model/knowledge.js";
export * as fixes from "./fixes/split-batchnorm.js";
export { symAtoms, symToString } from "./model/symbolic.js";
export type { GraphShapes, ShapeFact } from "./passes/shapes.js";
export * as symbolic from "./model/symbolic.js";
export type { EvalContext, TrainModeEvalCall, TrainOrigin } from "./model/eval-mode.js";
export type { SmallBatchLoop } from "./frontend/python/loaders.js";
export { constValue, symEquals } from "./model/symbolic.js";
export { rangeOf } from "./model/source.js";
/** Resolves a callee expression through the file's imports: `nn.BatchNorm2d` → `torch.nn.BatchNorm2d`. */
export { qualifiedNameOf } from "./frontend/python/indexer.js";
export type { SyntaxNode } from "./frontend/python/parser.js";

import type { SourceRange } from "../model/source.js";
import type { FixSafety } from "../rule.js";

export type Severity = 1 | 2;

/** A fix as data: edits into the original text (ranges are [start, end) indices), never overlapping. */
export interface Fix {
  title: string;
  safety: FixSafety;
  edits: { range: [number, number]; text: string }[];
}

export interface RelatedLocation {
  message: string;
  range: SourceRange;
}

export interface Confirmation {
  status: "confirmed" | "not-confirmed" | "not-run";
  summary: string;
  metrics: Record<string, number | string>;
}

/** Why a finding was not reported: ESLint's shape (`kind: "directive"` for a comment in the source). */
export interface Suppression {
  kind: "directive";
  justification: string;
}

/** One finding, as every reporter, the fixer and the language server see it. */
export interface Diagnostic {
  ruleId: string | null;
  /** The rule's message template id (ESLint's `messageId`). */
  messageId?: string;
  severity: Severity;
  message: string;
  range: SourceRange;
  related: RelatedLocation[];
  fix?: Fix;
  suggestions?: Fix[];
  confirmation?: Confirmation;
  fatal?: boolean;
  model?: string;
  modulePath?: string;
  /** Set on suppressed findings (they go to `suppressedMessages`). */
  suppressions?: Suppression[];
}

/** Lint outcome of one file, in the shape of ESLint's results. */
export interface LintResult {
  filePath: string;
  messages: Diagnostic[];
  suppressedMessages: Diagnostic[];
  errorCount: number;
  fatalErrorCount: number;
  warningCount: number;
  fixableErrorCount: number;
  fixableWarningCount: number;
  /** The text that was linted (for code frames); not part of the JSON output. */
  source?: string;
  /** Analysis notes for `--verbose` (budgets hit, constructs not followed). */
  notes?: string[];
}

export function countResult(filePath: string, messages: Diagnostic[], suppressed: Diagnostic[], source?: string, notes?: string[]): LintResult {
  const errors = messages.filter((m) => m.severity === 2);
  const warnings = messages.filter((m) => m.severity === 1);
  return {
    filePath,
    messages,
    suppressedMessages: suppressed,
    errorCount: errors.length,
    fatalErrorCount: messages.filter((m) => m.fatal).length,
    warningCount: warnings.length,
    fixableErrorCount: errors.filter((m) => m.fix).length,
    fixableWarningCount: warnings.filter((m) => m.fix).length,
    source,
    notes,
  };
}

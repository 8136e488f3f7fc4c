import type { Diagnostic, Fix } from "./diagnostic.js";
import type { SourceRange } from "../model/source.js";

/**
 * Splitting a file into lint units, so that an edit re-lints only the part of the file it can affect.
 *
 * A unit keeps every top-level statement that is not a class (imports, constants, helper functions, scripts) and
 * one group of classes: classes whose text names one another (submodules, base classes) are in the same group.
 * Every other class is replaced by as many newlines as it spans, so lines and columns in a unit are those of
 * the file and only offsets move. The analysis of a class depends on its own text, on the classes it names and
 * on the shared statements, and nothing else, except attribute reads, which the caller adds back for the left-out
 * classes. A class nested in an `if` or `try` at top level counts as a shared statement.
 */

/** A top-level class of the file (its whole statement, decorators included). */
export interface TopLevelClass {
  name: string;
  startIndex: number;
  endIndex: number;
}

export interface LintUnit {
  /** Indices into the class list of the classes this unit keeps, in source order. */
  classes: number[];
  /** The file's text with every other class replaced by newlines. */
  text: string;
  /** The replaced spans in source order: file start, file end, length in the unit's text. */
  replaced: [number, number, number][];
}

const WORD = /[A-Za-z_]\w*/g;

/**
 * Every unit is about as long as the file has lines (the blanked classes keep theirs): past this many
 * characters over all units (thousands of classes in a generated file), the file is one unit.
 */
export const MAX_UNITS_CHARS = 8_000_000;

/** The distinct identifier-like words of a text. */
export function wordsOf(text: string): string[] {
  return [...new Set(text.match(WORD) ?? [])];
}

function newlinesIn(text: string, start: number, end: number): number {
  let count = 0;
  for (let i = text.indexOf("\n", start); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

/**
 * Groups the classes (union-find over "class A's text names class B") and builds one unit per group, ordered by
 * the group's first class. With fewer than two groups, the only unit is the file itself.
 */
export function splitIntoUnits(text: string, classes: readonly TopLevelClass[], words: (classIndex: number) => readonly string[]): LintUnit[] {
  const parent = classes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const byName = new Map<string, number>();
  classes.forEach((c, i) => {
    const other = byName.get(c.name);
    if (other === undefined) byName.set(c.name, i);
    else union(other, i); // two classes of one name: a use of the name may mean either
  });
  classes.forEach((_, i) => {
    for (const word of words(i)) {
      const j = byName.get(word);
      if (j !== undefined && j !== i) union(i, j);
    }
  });
  const groups = new Map<number, number[]>();
  classes.forEach((_, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  const lines = newlinesIn(text, 0, text.length) + 1;
  if (groups.size < 2 || groups.size * lines > MAX_UNITS_CHARS) return [{ classes: classes.map((_, i) => i), text, replaced: [] }];
  // Pieces shared by every unit: the text between classes, each class, and each class's blank replacement.
  const gaps = classes.map((c, i) => text.slice(i === 0 ? 0 : classes[i - 1].endIndex, c.startIndex));
  const tail = text.slice(classes[classes.length - 1].endIndex);
  const bodies = classes.map((c) => text.slice(c.startIndex, c.endIndex));
  const blanks = classes.map((c) => "\n".repeat(newlinesIn(text, c.startIndex, c.endIndex)));
  return [...groups.values()].map((group) => {
    const kept = new Set(group);
    const parts: string[] = [];
    const replaced: [number, number, number][] = [];
    classes.forEach((c, i) => {
      parts.push(gaps[i]);
      if (kept.has(i)) parts.push(bodies[i]);
      else {
        parts.push(blanks[i]);
        replaced.push([c.startIndex, c.endIndex, blanks[i].length]);
      }
    });
    parts.push(tail);
    return { classes: group, text: parts.join(""), replaced };
  });
}

/** The file offset of an offset in a unit's text (an offset inside a replaced span maps to the span's edge). */
export function toFileOffset(unit: LintUnit, offset: number): number {
  let shift = 0; // file offset minus unit offset, before the current span
  for (const [start, end, length] of unit.replaced) {
    const unitStart = start - shift;
    if (offset <= unitStart) break;
    if (offset < unitStart + length) return start;
    shift += end - start - length;
  }
  return offset + shift;
}

function relocateRange(unit: LintUnit, r: SourceRange): SourceRange {
  return { ...r, startIndex: toFileOffset(unit, r.startIndex), endIndex: toFileOffset(unit, r.endIndex) };
}

function relocateFix(unit: LintUnit, fix: Fix): Fix {
  return { ...fix, edits: fix.edits.map((e) => ({ ...e, range: [toFileOffset(unit, e.range[0]), toFileOffset(unit, e.range[1])] })) };
}

/** A unit's finding in file coordinates (lines and columns are already the file's). */
export function relocateDiagnostic(unit: LintUnit, d: Diagnostic): Diagnostic {
  if (unit.replaced.length === 0) return d;
  return {
    ...d,
    range: relocateRange(unit, d.range),
    related: d.related.map((r) => ({ ...r, range: relocateRange(unit, r.range) })),
    fix: d.fix && relocateFix(unit, d.fix),
    suggestions: d.suggestions?.map((s) => relocateFix(unit, s)),
  };
}

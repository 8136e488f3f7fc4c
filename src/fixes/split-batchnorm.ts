/**
 * Fixes for a reused BatchNorm: give a call site its own instance. Built here, not in the rule, because
 * they need the source layout (indentation, line endings, enclosing functions) rather than the graph.
 */
import type { FixDescriptor } from "../rule.js";
import type { ModelIndex, FunctionDef, ModelClass } from "../model/index-types.js";
import type { ModuleInstance } from "../model/values.js";
import type { ForwardGraph, GraphNode } from "../model/graph.js";
import type { SourceRange } from "../model/source.js";
import { constructorLabel } from "../model/queries.js";

export interface SplitFixes {
  fix?: FixDescriptor;
  suggestions: FixDescriptor[];
}

const NONE: SplitFixes = { suggestions: [] };

function contains(outer: SourceRange, inner: SourceRange): boolean {
  return outer.startIndex <= inner.startIndex && inner.endIndex <= outer.endIndex;
}

function innermost<T extends { range: SourceRange }>(items: Iterable<T>, range: SourceRange): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (contains(item.range, range) && (!best || contains(best.range, item.range))) best = item;
  }
  return best;
}

function enclosingFunction(index: ModelIndex, range: SourceRange): FunctionDef | undefined {
  const all = [...index.functions.values(), ...index.classes.flatMap((c) => [...c.methods.values()])];
  return innermost(all, range);
}

function enclosingClass(index: ModelIndex, range: SourceRange): ModelClass | undefined {
  return innermost(index.classes, range);
}

function isFalse(inst: ModuleInstance, kwarg: string): boolean {
  return inst.kwargs.get(kwarg)?.text === "False";
}

/** The state_dict keys a BatchNorm registers, for the checkpoint warning. */
function stateKeys(inst: ModuleInstance, name: string): string {
  const keys = [
    ...(isFalse(inst, "affine") ? [] : ["weight", "bias"]),
    ...(isFalse(inst, "track_running_stats") ? [] : ["running_mean", "running_var", "num_batches_tracked"]),
  ];
  return keys.map((k) => `\`${name}.${k}\``).join(", ");
}

function lineEnding(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}

/** Where a new line goes after a statement: the end of its last line (after any trailing comment). */
function endOfLine(text: string, index: number): number {
  const nl = text.indexOf("\n", index);
  if (nl < 0) return text.length;
  return text[nl - 1] === "\r" ? nl - 1 : nl;
}

/** The statement's indentation, when it starts its line (otherwise no safe place to insert a sibling). */
function indentationOf(text: string, start: number): string | undefined {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  const indent = text.slice(lineStart, start);
  return /^[ \t]*$/.test(indent) ? indent : undefined;
}

function freeAttributeName(text: string, base: string, ordinal: number): string {
  for (let k = ordinal; ; k++) {
    const candidate = `${base}_${k}`;
    if (!new RegExp(`\\b${candidate}\\b`).test(text)) return candidate;
  }
}

/**
 * Fixes for one reported call site of a reused BatchNorm. `ordinal` numbers the site (2 for the second).
 * A separate call `self.bn(x)` in the class that declares `self.bn = ...`: a new attribute declared right
 * after the original, same constructor text, and the call renamed (plus a suggestion that shares the
 * affine weight and bias but keeps separate running statistics). A repeated name inside a container
 * literal in the function that built the instance: a fresh constructor call in its place. Anything else
 * (loops, helpers, instances handed to submodules) gets no edit: the message says what to do.
 */
export function splitReusedBatchNorm(text: string, index: ModelIndex, inst: ModuleInstance, siteRange: SourceRange, run: GraphNode, ordinal: number): SplitFixes {
  if (run.loops.length > 0 || siteRange.startIndex !== run.range.startIndex || siteRange.endIndex !== run.range.endIndex) return NONE;
  const ctorText = text.slice(inst.ctorRange.startIndex, inst.ctorRange.endIndex);
  const label = constructorLabel(inst);
  const siteText = text.slice(siteRange.startIndex, siteRange.endIndex);

  // One name listed again in an nn.Sequential / list literal.
  if (/^[A-Za-z_][\w.]*$/.test(siteText)) {
    const home = enclosingFunction(index, inst.ctorRange);
    if (!home || home !== enclosingFunction(index, siteRange)) return NONE;
    const path = run.target;
    return {
      fix: {
        title: `List a new ${label} here instead of \`${siteText}\` again (unsafe: \`${path}\` gets its own parameters and running statistics; checkpoints saved before hold the shared values under \`${path}.*\`, so re-estimate them or retrain)`,
        safety: "unsafe",
        edits: [{ range: [siteRange.startIndex, siteRange.endIndex], text: ctorText }],
      },
      suggestions: [],
    };
  }

  // A separate call `self.<attr>(...)` in the class that declares the instance.
  const decl = inst.declStatement;
  const callee = run.calleeRange;
  if (!decl || !callee) return NONE;
  const declMatch = /^self\.([A-Za-z_]\w*)\s*=/.exec(text.slice(decl.startIndex, decl.endIndex));
  const calleeText = text.slice(callee.startIndex, callee.endIndex);
  if (!declMatch || !/^self\.[A-Za-z_]\w*$/.test(calleeText)) return NONE;
  if (!contains(decl, inst.ctorRange)) return NONE;
  const cls = enclosingClass(index, decl);
  if (!cls || cls !== enclosingClass(index, callee)) return NONE;
  const indent = indentationOf(text, decl.startIndex);
  if (indent === undefined) return NONE;

  const original = declMatch[1];
  const name = freeAttributeName(text, original, ordinal);
  const eol = lineEnding(text);
  const at = endOfLine(text, decl.endIndex);
  const declare = `${eol}${indent}self.${name} = ${ctorText}`;
  const rename = { range: [callee.startIndex, callee.endIndex] as [number, number], text: `self.${name}` };
  const warning = `unsafe: parameter names change; checkpoints of \`${cls.name}\` saved before lack ${stateKeys(inst, name)}: copy them from \`${original}.*\` or load with strict=False`;
  const split: FixDescriptor = {
    title: `Give this call its own ${label} as \`self.${name}\` (${warning})`,
    safety: "unsafe",
    edits: [{ range: [at, at], text: declare }, rename],
  };
  const suggestions: FixDescriptor[] = [];
  if (!isFalse(inst, "affine")) {
    const tie = `${eol}${indent}self.${name}.weight = self.${original}.weight${eol}${indent}self.${name}.bias = self.${original}.bias`;
    suggestions.push({
      title: `Keep one weight and bias (shared with \`self.${original}\`) but give this call its own running statistics as \`self.${name}\` (${warning})`,
      safety: "unsafe",
      edits: [{ range: [at, at], text: declare + tie }, rename],
    });
  }
  return { fix: split, suggestions };
}

/** The local spelling of `torch.nn` in this file (`nn`, `torch.nn`), if it has one. */
function torchNnName(index: ModelIndex): string | undefined {
  if (index.imports.lookup("nn") === "torch.nn") return "nn";
  if (index.imports.lookup("torch") === "torch") return "torch.nn";
  return undefined;
}

/** `self.<attr> = <ctor>` declaring `inst` in the class that also holds `at`, with its line's indentation. */
function attributeDeclaration(text: string, index: ModelIndex, inst: ModuleInstance, at: SourceRange): { attr: string; decl: SourceRange; indent: string; cls: ModelClass } | undefined {
  const decl = inst.declStatement;
  if (!decl || !contains(decl, inst.ctorRange)) return undefined;
  const m = /^self\.([A-Za-z_]\w*)\s*=/.exec(text.slice(decl.startIndex, decl.endIndex));
  const cls = enclosingClass(index, decl);
  const indent = indentationOf(text, decl.startIndex);
  if (!m || !cls || cls !== enclosingClass(index, at) || indent === undefined) return undefined;
  return { attr: m[1], decl, indent, cls };
}

/**
 * Suggestion for a BatchNorm called in a loop of known length: make it an nn.ModuleList with one
 * instance per iteration, indexed by the loop variable. Only when the attribute is read nowhere else.
 */
export function perIterationSuggestion(text: string, index: ModelIndex, inst: ModuleInstance, run: GraphNode, attributeReads: (name: string) => number): FixDescriptor | undefined {
  const loop = run.loops.length === 1 ? run.loops[0] : undefined;
  const callee = run.calleeRange;
  if (!loop || typeof loop.count !== "number" || loop.count < 2 || !callee || run.callStack.length > 0) return undefined;
  const found = attributeDeclaration(text, index, inst, callee);
  const nn = torchNnName(index);
  const header = /^for\s+([A-Za-z_]\w*)\s+in\b/.exec(text.slice(loop.range.startIndex, loop.range.endIndex));
  if (!found || !nn || !header || text.slice(callee.startIndex, callee.endIndex) !== `self.${found.attr}`) return undefined;
  if (attributeReads(found.attr) !== 1) return undefined;
  const ctorText = text.slice(inst.ctorRange.startIndex, inst.ctorRange.endIndex);
  const keys = `\`${found.attr}.*\` become \`${found.attr}.0.*\` … \`${found.attr}.${loop.count - 1}.*\``;
  return {
    title: `Use one ${constructorLabel(inst)} per iteration: \`self.${found.attr}\` becomes an nn.ModuleList of ${loop.count}, indexed by \`${header[1]}\` (unsafe: parameter names change; in checkpoints of \`${found.cls.name}\` saved before, ${keys})`,
    safety: "unsafe",
    edits: [
      { range: [inst.ctorRange.startIndex, inst.ctorRange.endIndex], text: `${nn}.ModuleList([${ctorText} for _ in range(${loop.count})])` },
      { range: [callee.startIndex, callee.endIndex], text: `self.${found.attr}[${header[1]}]` },
    ],
  };
}

/**
 * Suggestion for one BatchNorm handed to several submodules: declare another one next to it and hand
 * that to the submodule this call site runs in.
 */
export function ownInstanceForSubmodule(text: string, index: ModelIndex, graph: ForwardGraph, inst: ModuleInstance, siteRange: SourceRange, ordinal: number): FixDescriptor | undefined {
  // The site is the call of the submodule the BatchNorm runs in: `self.refine(...)`.
  const called = /^self\.([A-Za-z_][\w.]*)\s*\(/.exec(text.slice(siteRange.startIndex, siteRange.endIndex));
  if (!called) return undefined;
  const receivers = graph.instances.filter((sub) => sub.userClass && sub.paths.includes(called[1]));
  if (receivers.length !== 1) return undefined;
  const args = [...receivers[0].args, ...receivers[0].kwargs.values()].filter((a) => a.value.k === "instance" && a.value.inst === inst);
  if (args.length !== 1) return undefined;
  const arg = args[0];
  const found = attributeDeclaration(text, index, inst, arg.range);
  if (!found || arg.text !== `self.${found.attr}` || enclosingFunction(index, arg.range) !== enclosingFunction(index, found.decl)) return undefined;
  const name = freeAttributeName(text, found.attr, ordinal);
  const ctorText = text.slice(inst.ctorRange.startIndex, inst.ctorRange.endIndex);
  const at = endOfLine(text, found.decl.endIndex);
  const path = receivers[0].paths[0];
  return {
    title: `Give \`self.${path}\` its own ${constructorLabel(inst)} as \`self.${name}\` (unsafe: parameter names change; checkpoints of \`${found.cls.name}\` saved before lack ${stateKeys(inst, name)}: copy them from \`${found.attr}.*\`)`,
    safety: "unsafe",
    edits: [
      { range: [at, at], text: `${lineEnding(text)}${found.indent}self.${name} = ${ctorText}` },
      { range: [arg.range.startIndex, arg.range.endIndex], text: `self.${name}` },
    ],
  };
}

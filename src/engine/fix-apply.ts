import type { Fix } from "./diagnostic.js";

export interface AppliedFixes {
  text: string;
  applied: Fix[];
  /** Fixes left for the next pass because they overlap one already taken. */
  deferred: Fix[];
}

type Edit = Fix["edits"][number];

/** Two edits collide when they overlap; insertions at one point do not (they are applied in order). */
function collides(a: Edit, b: Edit): boolean {
  const [as, ae] = a.range;
  const [bs, be] = b.range;
  if (as === ae && bs === be) return false;
  if (as === ae) return bs < as && as < be;
  if (bs === be) return as < bs && bs < ae;
  return as < be && bs < ae;
}

/**
 * Applies fixes to `text` as ESLint does: in order of position, each fix whole or not at all, skipping
 * any fix with an edit that overlaps an edit already taken (the next lint pass offers it again).
 */
export function applyFixes(text: string, fixes: readonly Fix[]): AppliedFixes {
  const ordered = [...fixes].sort((a, b) => Math.min(...a.edits.map((e) => e.range[0])) - Math.min(...b.edits.map((e) => e.range[0])));
  const taken: Edit[] = [];
  const applied: Fix[] = [];
  const deferred: Fix[] = [];
  for (const fix of ordered) {
    const valid = fix.edits.every((e) => 0 <= e.range[0] && e.range[0] <= e.range[1] && e.range[1] <= text.length);
    if (!valid || fix.edits.some((e) => taken.some((t) => collides(e, t)))) {
      deferred.push(fix);
      continue;
    }
    taken.push(...fix.edits);
    applied.push(fix);
  }
  // Stable sort keeps the fixes' order for insertions at the same point.
  const edits = taken.map((e, i) => ({ e, i })).sort((a, b) => a.e.range[0] - b.e.range[0] || a.i - b.i);
  let out = "";
  let cursor = 0;
  for (const { e } of edits) {
    out += text.slice(cursor, e.range[0]) + e.text;
    cursor = e.range[1];
  }
  out += text.slice(cursor);
  return { text: out, applied, deferred };
}

/**
 * The abstract state of the train/eval-mode analysis: which local names hold which tracked model, and the set
 * of modes each model may be in at this point. Sets grow at merges (if/else arms, loop back edges); a call
 * is in training mode for sure only when no `eval` and no `unknown` is in its set.
 */
import type { SourceRange } from "../../model/source.js";
import type { TrainOrigin } from "../../model/eval-mode.js";

/**
 * `train`: training mode (new model, `.train()` outside evaluation code, or a callee that left it so).
 * `trainInEval`: `.train()` inside the evaluation code being walked (reported at that call).
 * `entry`: whatever mode the caller passed in (parameters and globals of a function).
 */
export type ModeKind = "train" | "trainInEval" | "eval" | "unknown" | "entry";

export interface ModeTag {
  readonly kind: ModeKind;
  readonly origin?: TrainOrigin;
}

export type Modes = ReadonlyMap<string, ModeTag>;

function tagKey(t: ModeTag): string {
  return t.origin ? `${t.kind}@${t.origin.range.startIndex}` : t.kind;
}

export function modesOf(...tags: ModeTag[]): Modes {
  return new Map(tags.map((t) => [tagKey(t), t]));
}

export function unionModes(a: Modes, b: Modes): Modes {
  return new Map([...a, ...b]);
}

export const EVAL: Modes = modesOf({ kind: "eval" });
export const UNKNOWN_MODE: Modes = modesOf({ kind: "unknown" });
export const ENTRY: Modes = modesOf({ kind: "entry" });

export function hasKind(m: Modes, kind: ModeKind): boolean {
  for (const t of m.values()) if (t.kind === kind) return true;
  return false;
}

/** A mode set with no chance of eval: every tag is a training-mode tag (or the caller's mode). */
export function mayBeEval(m: Modes): boolean {
  return hasKind(m, "eval") || hasKind(m, "unknown");
}

/** Replaces `entry` in a callee's exit modes by the caller's modes at the call. */
export function substituteEntry(exit: Modes, atCall: Modes): Modes {
  if (!hasKind(exit, "entry")) return exit;
  const out = new Map([...exit].filter(([, t]) => t.kind !== "entry"));
  return unionModes(out, atCall);
}

/** `.train()` inside evaluation code is only blamed inside that code: for callers it is plain training mode. */
export function forgetTrainInEval(m: Modes): Modes {
  return new Map([...m].map(([k, t]) => (t.kind === "trainInEval" ? [k, { ...t, kind: "train" as const }] : [k, t])));
}

/** A model the analysis follows: created in the walked code, or a parameter/global slot of a function. */
export interface TrackedModel {
  readonly id: number;
  /** `Net`, `torchvision.models.resnet18()`; undefined for slots (the caller knows). */
  readonly label?: string;
  /** `param:model` or `global:model` for models that come from the caller. */
  readonly slot?: string;
  /** Handed to code bnlint cannot see: any later unknown call may change its mode. */
  escaped: boolean;
}

export interface FlowState {
  vars: Map<string, number>;
  modes: Map<number, Modes>;
  /** Innermost loop (node start index, -1 outside loops) of each training step seen so far. */
  trainedLoops: Set<number>;
  /** The first `load_state_dict` / pretrained builder seen on a tracked model. */
  loaded?: SourceRange;
}

export function cloneState(s: FlowState): FlowState {
  return { vars: new Map(s.vars), modes: new Map(s.modes), trainedLoops: new Set(s.trainedLoops), loaded: s.loaded };
}

/** Join of two paths; `undefined` is an unreachable path (after `return`/`raise`). */
export function mergeStates(a: FlowState | undefined, b: FlowState | undefined): FlowState | undefined {
  if (!a) return b && cloneState(b);
  if (!b) return cloneState(a);
  const vars = new Map<string, number>();
  for (const [name, id] of a.vars) if (b.vars.get(name) === id) vars.set(name, id);
  const modes = new Map<number, Modes>();
  for (const id of new Set([...a.modes.keys(), ...b.modes.keys()])) {
    modes.set(id, unionModes(a.modes.get(id) ?? new Map(), b.modes.get(id) ?? new Map()));
  }
  return { vars, modes, trainedLoops: new Set([...a.trainedLoops, ...b.trainedLoops]), loaded: a.loaded ?? b.loaded };
}

export function stateKey(s: FlowState | undefined): string {
  if (!s) return "-";
  const vars = [...s.vars].map(([n, id]) => `${n}=${id}`).sort().join(",");
  const modes = [...s.modes].map(([id, m]) => `${id}:${[...m.keys()].sort().join("|")}`).sort().join(",");
  return `${vars};${modes};${[...s.trainedLoops].sort().join(",")};${s.loaded?.startIndex ?? ""}`;
}

/**
 * PyTorch's lazy modules (`LazyLinear`, `LazyConv2d`, `LazyBatchNorm1d`, …) take their input size from the first
 * tensor they see. The executor does the same: at the first call, the instance is replaced by the eager module it
 * becomes (`Linear(in_features, …)`), with the inferred size as first constructor argument, so parameters,
 * BatchNorm state and every operator treat it like any other module.
 */
import type { ModuleInstance } from "../model/values.js";
import { symConst } from "../model/symbolic.js";
import { type Act, logicalShape } from "./act.js";
import { NotExecutable } from "./module-config.js";

const LAZY = /^torch\.nn\.Lazy(Linear|Conv[123]d|BatchNorm[123]d)$/;

export function isLazy(inst: ModuleInstance): boolean {
  return inst.qualname !== undefined && LAZY.test(inst.qualname);
}

/** The eager module a lazy one becomes on `input`; the instance itself when it is not lazy. */
export function materialize(inst: ModuleInstance, input: Act): ModuleInstance {
  const match = inst.qualname ? LAZY.exec(inst.qualname) : null;
  if (!match) return inst;
  const shape = logicalShape(input);
  // Linear reads the last dimension; convolutions and BatchNorm read the channels (dimension 1).
  const size = match[1] === "Linear" ? shape[shape.length - 1] : shape[1];
  if (!(size > 0)) throw new NotExecutable(`\`${inst.ctorText}\` on an input of shape [${shape.join(", ")}]`, inst.ctorRange.start.line);
  const inferred = { value: { k: "num" as const, sym: symConst(size) }, text: String(size), range: inst.ctorRange };
  return { ...inst, qualname: `torch.nn.${match[1]}`, args: [inferred, ...inst.args] };
}

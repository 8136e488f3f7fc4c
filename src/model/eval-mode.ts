/** What the script-level analysis (`src/frontend/python/scripts.ts`) finds about train/eval mode. */
import type { SourceRange } from "./source.js";

/** Why a stretch of code counts as evaluation code. */
export interface EvalContext {
  /** `trace`: `torch.jit.trace(model, …)`, which records the BatchNorm calls in the mode the model is in. */
  readonly kind: "function" | "no_grad" | "after_load" | "eval_loop" | "training_flag" | "trace" | "held_out_call";
  /** The function name (`test`), the context manager (`torch.no_grad()`), `load_state_dict`, the held-out data a loop iterates (`test_loader`), the tracer (`torch.jit.trace`), or the held-out data a call is given (`val_data`). */
  readonly label: string;
  readonly range: SourceRange;
  /** For `no_grad` blocks and loops over held-out data: what came before that makes them evaluation code. */
  readonly after?: "training" | "loading";
  /** For a loop over `dataloaders[phase]` in a `for phase in ["train", "val"]` loop: the pass, `phase = "val"`. */
  readonly phase?: string;
}

/** Where the training mode that reaches a call was set. */
export interface TrainOrigin {
  /** `flag`: `model.training = False`, which leaves the BatchNorm layers in training mode. */
  readonly kind: "created" | "train" | "call" | "flag";
  /** The constructor call, the `.train()` call or the call of an in-file function that left the model in training mode. */
  readonly range: SourceRange;
  readonly text: string;
}

/** A model containing BatchNorm, called in evaluation code while every path bnlint sees leaves it in training mode. */
export interface TrainModeEvalCall {
  /** The name the model is called through (`model`, `net`). */
  readonly variable: string;
  /** `ResNet`, `torchvision.models.resnet18()`. */
  readonly model: string;
  readonly call: SourceRange;
  readonly context: EvalContext;
  readonly origins: readonly TrainOrigin[];
  /** `.train()` calls inside the same evaluation code that reach this call; reported there instead. */
  readonly trainInEval: readonly SourceRange[];
  /** Calls of in-file functions that handed the model down to this one, outermost first. */
  readonly callers: readonly SourceRange[];
  /** The model reaches the evaluation code as a module-level global, not through the callers' arguments. */
  readonly viaGlobal?: boolean;
  /**
   * The function holding the evaluation code, when the file never calls it but hands it to other code
   * (`gr.Interface(fn=predict)`, `@app.route(...)`) that runs it after the module's code: `callers[0]` is where
   * it is handed over.
   */
  readonly handedOver?: string;
}

export interface ScriptAnalysis {
  readonly trainModeEvalCalls: readonly TrainModeEvalCall[];
}

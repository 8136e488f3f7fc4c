/**
 * The tensor library, loaded only under `--confirm`: TensorFlow.js's core with its WebAssembly backend
 * (XNNPACK kernels; the .wasm files ship inside the npm package, nothing is downloaded at run time).
 */
import { createRequire } from "node:module";
import type * as TF from "@tensorflow/tfjs-core";

export type Tf = typeof TF;
export type Tensor = TF.Tensor;

let loading: Promise<Tf> | undefined;

export function loadTensorLib(): Promise<Tf> {
  loading ??= (async () => {
    // require, not import(): both packages are CommonJS, and node's ESM loader would first scan their
    // multi-megabyte sources for export names (measured: 240-290 ms against 70-85 ms for require).
    const require = createRequire(import.meta.url);
    const tf = require("@tensorflow/tfjs-core") as Tf;
    require("@tensorflow/tfjs-backend-wasm");
    // Production mode skips per-op NaN checks and debug bookkeeping.
    tf.enableProdMode();
    if (!(await tf.setBackend("wasm"))) throw new Error("the WebAssembly backend of TensorFlow.js could not start");
    await tf.ready();
    return tf;
  })();
  return loading;
}

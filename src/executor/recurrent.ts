/**
 * `nn.LSTM`, `nn.GRU` and `nn.RNN` as PyTorch computes them (gate order i, f, g, o and r, z, n; the GRU's `b_hn`
 * inside the reset gate; the RNN's tanh or relu), over sequence-first or batch-first 3-d input, any number of layers, one or two
 * directions, from zero initial states. Parameters are U(-1/√hidden, 1/√hidden), PyTorch's default.
 * The call returns PyTorch's tuple: `(output, (h_n, c_n))` for an LSTM, `(output, h_n)` for a GRU.
 * Dropout between layers is the identity, as for `nn.Dropout` everywhere in the executor.
 */
import type { GraphNode } from "../model/graph.js";
import type { Tensor, Tf } from "./tensor-lib.js";
import { type Act, cf, toCF } from "./act.js";
import { ModuleArgs, NotExecutable, NotExecutableShape } from "./module-config.js";
import type { Rng } from "./rng.js";

export const RECURRENT_TYPES = new Set(["LSTM", "GRU", "RNN"]);

export interface RecurrentConfig {
  kind: "LSTM" | "GRU" | "RNN";
  /** For an RNN: its nonlinearity. */
  relu: boolean;
  inputSize: number;
  hidden: number;
  layers: number;
  bias: boolean;
  batchFirst: boolean;
  directions: 1 | 2;
}

export function recurrentConfig(args: ModuleArgs, line: number): RecurrentConfig {
  if (args.number("proj_size", 0) !== 0) throw new NotExecutable(`\`${args.type}(proj_size=…)\``, line);
  return {
    kind: args.type as RecurrentConfig["kind"],
    relu: args.type === "RNN" && args.get("nonlinearity", "tanh") === "relu",
    inputSize: args.number("input_size"),
    hidden: args.number("hidden_size"),
    layers: args.number("num_layers", 1),
    bias: args.bool("bias", true),
    batchFirst: args.bool("batch_first", false),
    directions: args.bool("bidirectional", false) ? 2 : 1,
  };
}

const gates = (kind: RecurrentConfig["kind"]): number => (kind === "LSTM" ? 4 : kind === "GRU" ? 3 : 1);

/** PyTorch's parameter names and shapes, in its state-dict order. */
export function recurrentParamShapes(c: RecurrentConfig): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  const g = gates(c.kind) * c.hidden;
  for (let layer = 0; layer < c.layers; layer++) {
    for (let d = 0; d < c.directions; d++) {
      const suffix = `l${layer}${d === 1 ? "_reverse" : ""}`;
      const input = layer === 0 ? c.inputSize : c.hidden * c.directions;
      out.push({ name: `weight_ih_${suffix}`, shape: [g, input] }, { name: `weight_hh_${suffix}`, shape: [g, c.hidden] });
      if (c.bias) out.push({ name: `bias_ih_${suffix}`, shape: [g] }, { name: `bias_hh_${suffix}`, shape: [g] });
    }
  }
  return out;
}

export function initRecurrentParams(c: RecurrentConfig, rng: Rng): Map<string, { values: Float32Array; shape: number[] }> {
  const bound = 1 / Math.sqrt(c.hidden);
  const out = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const { name, shape } of recurrentParamShapes(c)) {
    out.set(name, { values: rng.uniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -bound, bound), shape });
  }
  return out;
}

function tuple(parts: Act[]): Act {
  return { t: parts[0].t, cl: false, parts };
}

/** One direction of one layer over `[L, N, I]`: the outputs `[L, N, H]` and the last hidden (and cell) state. */
function runDirection(tf: Tf, c: RecurrentConfig, x: Tensor, w: (name: string) => Tensor | undefined, suffix: string, reverse: boolean, initial: { h?: Tensor; c?: Tensor }): { out: Tensor; h: Tensor; cell?: Tensor } {
  const [steps, batch] = [x.shape[0], x.shape[1]!];
  const H = c.hidden;
  const g = gates(c.kind);
  const wih = w(`weight_ih_${suffix}`)!;
  const whh = w(`weight_hh_${suffix}`)!;
  const bih = w(`bias_ih_${suffix}`);
  const bhh = w(`bias_hh_${suffix}`);
  // Input projections of every step at once: [L·N, I] × [I, g·H].
  let projected = tf.reshape(tf.matMul(tf.reshape(x, [steps * batch, x.shape[2]!]), wih, false, true), [steps, batch, g * H]);
  if (bih) projected = tf.add(projected, bih);
  const inputs = tf.unstack(projected, 0);
  let h: Tensor = initial.h ?? tf.zeros([batch, H]);
  let cell: Tensor | undefined = c.kind === "LSTM" ? initial.c ?? tf.zeros([batch, H]) : undefined;
  const outs: Tensor[] = new Array(steps);
  for (let k = 0; k < steps; k++) {
    const t = reverse ? steps - 1 - k : k;
    let hp = tf.matMul(h, whh, false, true);
    if (bhh) hp = tf.add(hp, bhh);
    if (c.kind === "LSTM") {
      const [i, f, gg, o] = tf.split(tf.add(inputs[t], hp), 4, 1);
      cell = tf.add(tf.mul(tf.sigmoid(f), cell!), tf.mul(tf.sigmoid(i), tf.tanh(gg)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(cell));
    } else if (c.kind === "RNN") {
      const pre = tf.add(inputs[t], hp);
      h = c.relu ? tf.relu(pre) : tf.tanh(pre);
    } else {
      const [xr, xz, xn] = tf.split(inputs[t], 3, 1);
      const [hr, hz, hn] = tf.split(hp, 3, 1);
      const r = tf.sigmoid(tf.add(xr, hr));
      const z = tf.sigmoid(tf.add(xz, hz));
      const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
      h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
    }
    outs[t] = h;
  }
  return { out: tf.stack(outs, 0), h, cell };
}

/**
 * `states`: the initial states the call was given (`self.lstm(x, (h0, c0))`, `self.gru(x, h0)`), each
 * `[layers · directions, N, H]`; zeros when absent, as in PyTorch.
 */
export function runRecurrent(tf: Tf, c: RecurrentConfig, x: Act, w: (name: string) => Tensor | undefined, node: GraphNode, states: Act[] = []): Act {
  let seq = toCF(tf, x);
  if (seq.rank !== 3) throw new NotExecutable(`\`${c.kind}\` on a ${seq.rank}-d input (the executor runs batched 3-d input)`, node.range.start.line);
  if (seq.shape[2] !== c.inputSize) throw new NotExecutableShape(`input.size(-1) must be equal to input_size. Expected ${c.inputSize}, got ${seq.shape[2]}`, node);
  if (c.batchFirst) seq = tf.transpose(seq, [1, 0, 2]);
  const expected = [c.layers * c.directions, seq.shape[1], c.hidden];
  if (states.length > (c.kind === "LSTM" ? 2 : 1)) throw new NotExecutable(`\`${c.kind}\` called with ${states.length} initial states`, node.range.start.line);
  const initial = states.map((s) => {
    const t = toCF(tf, s);
    if (t.rank !== 3 || t.shape.some((d, i) => d !== expected[i])) throw new NotExecutableShape(`Expected hidden size (${expected.join(", ")}), got [${t.shape.join(", ")}]`, node);
    return tf.unstack(t, 0);
  });
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  for (let layer = 0; layer < c.layers; layer++) {
    const outs: Tensor[] = [];
    for (let d = 0; d < c.directions; d++) {
      const k = layer * c.directions + d;
      const r = runDirection(tf, c, seq, w, `l${layer}${d === 1 ? "_reverse" : ""}`, d === 1, { h: initial[0]?.[k], c: initial[1]?.[k] });
      outs.push(r.out);
      hs.push(r.h);
      if (r.cell) cs.push(r.cell);
    }
    seq = outs.length === 1 ? outs[0] : tf.concat(outs, 2);
  }
  const output = cf(c.batchFirst ? tf.transpose(seq, [1, 0, 2]) : seq);
  const hN = cf(tf.stack(hs, 0));
  return tuple([output, c.kind === "LSTM" ? tuple([hN, cf(tf.stack(cs, 0))]) : hN]);
}

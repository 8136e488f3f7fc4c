/** The shape of a model's input: from `--input-shape`, or read off the first layer that consumes it. */
import type { ForwardGraph, GraphNode } from "../model/graph.js";
import type { Sym } from "../model/symbolic.js";

/** Conv{k}d and friends: the layer fixes the input's rank (k + 2, batched) and its channels. */
interface FirstLayer {
  rank: number;
  /** Where the layer's constructor names the input's channels; undefined for layers that fix only the rank. */
  channelsArg?: number;
  keyword?: string;
}
const CHANNEL_FIRST_LAYERS: ReadonlyMap<string, FirstLayer> = new Map<string, FirstLayer>([
  ...[1, 2, 3].flatMap((k): [string, FirstLayer][] => [
    [`torch.nn.Conv${k}d`, { rank: k + 2, channelsArg: 0, keyword: "in_channels" }],
    [`torch.nn.ConvTranspose${k}d`, { rank: k + 2, channelsArg: 0, keyword: "in_channels" }],
  ]),
  ...[2, 3].flatMap((k): [string, FirstLayer][] => [
    [`torch.nn.BatchNorm${k}d`, { rank: k + 2, channelsArg: 0, keyword: "num_features" }],
    // A model that starts by pooling (DeepLab's image-pooling branch as a module of its own): batched images.
    ...["AdaptiveAvgPool", "AdaptiveMaxPool", "AvgPool", "MaxPool"].map((pool): [string, FirstLayer] => [`torch.nn.${pool}${k}d`, { rank: k + 2 }]),
  ]),
]);

/**
 * `(N, 3, H, W)` when the first node reading `input` is `Conv2d(3, ...)`: the rank and channels it needs.
 * Other dims are undefined (the caller names them). Undefined when the first reader fixes nothing.
 */
export function firstLayerShape(graph: ForwardGraph, input: GraphNode): { dims: (Sym | undefined)[]; layer: GraphNode } | undefined {
  const first = graph.nodes.find((n) => n.id > input.id && n.inputs.includes(input.id));
  const qualname = first?.op === "call_module" ? first.instance?.qualname : undefined;
  const layer = qualname ? CHANNEL_FIRST_LAYERS.get(qualname) : undefined;
  if (!first || !layer || first.inputs[0] !== input.id) return undefined;
  const arg = layer.channelsArg === undefined ? undefined : (first.instance!.args[layer.channelsArg]?.value ?? first.instance!.kwargs.get(layer.keyword!)?.value);
  const channels = arg?.k === "num" || arg?.k === "unknown" ? arg.sym : undefined;
  const dims: (Sym | undefined)[] = Array(layer.rank).fill(undefined);
  dims[1] = channels;
  return { dims, layer: first };
}

/**
 * Parses `--input-shape` values: `1,3,32,32` (every top-level model, key `*`) or `Net=1,3,32,32`. Throws with
 * a readable message on anything else.
 */
export function parseInputShape(value: string, previous: Record<string, number[]> = {}): Record<string, number[]> {
  const m = /^\s*(?:([A-Za-z_]\w*)\s*=\s*)?\(?\s*([0-9][0-9\s,x]*?)\s*\)?\s*$/.exec(value);
  const dims = m ? m[2].split(/[\s,x]+/).filter(Boolean).map(Number) : [];
  if (!m || dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(`expected sizes such as 1,3,32,32 or Net=1,3,32,32, got "${value}"`);
  }
  return { ...previous, [m[1] ?? "*"]: dims };
}

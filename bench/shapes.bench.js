// Cost of the shape pass as a share of the whole lint, over Debian's torchvision and torch.nn sources.
// Three measurements in this process: the whole lint (every rule), the lint without
// batchnorm-shape-mismatch (the shape pass is lazy, so it does not run), and the pass alone over
// graphs built beforehand. Reported as ratios; absolute times depend on the machine.
import { existsSync } from "node:fs";
import { lintText } from "../dist/src/index.js";
import { collectFiles } from "../dist/src/cli/files.js";
import { loadSource } from "../dist/src/engine/source-file.js";
import { parsePython } from "../dist/src/frontend/python/parser.js";
import { indexPython } from "../dist/src/frontend/python/indexer.js";
import { analyzePython } from "../dist/src/frontend/python/analyze.js";
import { propagateShapes } from "../dist/src/passes/shapes.js";

const DIRS = ["/usr/lib/python3/dist-packages/torchvision/models", "/usr/lib/python3/dist-packages/torch/nn"];
const ROUNDS = 5;

async function timed(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Best of ROUNDS: the least disturbed run. */
async function best(fn) {
  let min = Infinity;
  for (let i = 0; i < ROUNDS; i++) min = Math.min(min, await timed(fn));
  return min;
}

export default async function (log) {
  const dirs = DIRS.filter((d) => existsSync(d));
  if (dirs.length === 0) {
    log("skipped: torchvision / torch sources not installed (apt-get install python3-torch python3-torchvision)");
    return;
  }
  const texts = [];
  for (const e of await collectFiles(dirs)) {
    const loaded = await loadSource(e.path, 5 << 20);
    if (loaded.ok) texts.push([e.path, loaded.text]);
  }
  const withoutShapes = { rules: { "batchnorm-shape-mismatch": "off" } };
  await timed(async () => { for (const [p, t] of texts) await lintText(t, p); }); // warm-up (JIT, parser load)
  // Interleaved rounds, so that drift (GC, CPU frequency) hits both alike.
  let whole = Infinity;
  let noShape = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    whole = Math.min(whole, await timed(async () => { for (const [p, t] of texts) await lintText(t, p); }));
    noShape = Math.min(noShape, await timed(async () => { for (const [p, t] of texts) await lintText(t, p, withoutShapes); }));
  }

  // The pass alone: build every graph first (untimed), then time only propagateShapes.
  const prepared = [];
  for (const [p, text] of texts) {
    const tree = await parsePython(text);
    const analysis = analyzePython(indexPython(p, text, tree));
    prepared.push({ text, graphs: analysis.graphs });
    tree.delete();
  }
  const graphCount = prepared.reduce((n, f) => n + f.graphs.length, 0);
  const nodeCount = prepared.reduce((n, f) => n + f.graphs.reduce((m, g) => m + g.nodes.length, 0), 0);
  const pass = await best(async () => { for (const f of prepared) for (const g of f.graphs) propagateShapes(g, { text: f.text }); });

  log(`${texts.length} files, ${graphCount} forward graphs, ${nodeCount} graph nodes (best of ${ROUNDS})`);
  log(`shape pass alone / whole lint:                       ${(pass / whole).toFixed(3)}`);
  log(`whole lint / lint without the shape rule:            ${(whole / noShape).toFixed(3)}x`);
}

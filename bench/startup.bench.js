// Single-file CLI start-up (`bnlint one_file.py`), wall time: bare `node`, the tsc output loaded module by
// module (dist/src, the pre-bundle path), and bin/bnlint.js (the esbuild bundle), in alternation in this run.
// BNLINT_BASELINE=/path/to/an/older/built/checkout adds that checkout's bin/bnlint.js as a before/after row.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const repo = new URL("../", import.meta.url).pathname;
const seed = join(repo, "fixtures/seed/keras_cifar2.py");
const unbundled = `process.argv.splice(1, 0, "bnlint"); const { main } = await import(${JSON.stringify(join(repo, "dist/src/cli/main.js"))}); await main();`;
// The bundle without bin's small-run V8 setting (tree-sitter's wasm left to V8's default tiering).
const defaultTiering = `process.argv.splice(1, 0, "bnlint"); const { main } = await import(${JSON.stringify(join(repo, "dist/bundle/main.js"))}); await main();`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function wall(args) {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: "ignore" });
  if (run.status === null || run.status > 1) throw new Error(`${args.join(" ")} exited with ${run.status}`);
  return performance.now() - t0;
}

export default async function (log) {
  const baseline = process.env.BNLINT_BASELINE;
  const runs = { node: [], unbundled: [], bundled: [], bundledDefault: [], bundledVersion: [], baseline: [] };
  for (let i = 0; i < 11; i++) {
    runs.node.push(wall(["-e", "0"]));
    runs.unbundled.push(wall(["--input-type=module", "-e", unbundled, "--", seed]));
    runs.bundled.push(wall([join(repo, "bin/bnlint.js"), seed]));
    runs.bundledDefault.push(wall(["--input-type=module", "-e", defaultTiering, "--", seed]));
    runs.bundledVersion.push(wall([join(repo, "bin/bnlint.js"), "--version"]));
    if (baseline) runs.baseline.push(wall([join(baseline, "bin/bnlint.js"), seed]));
  }
  const node = median(runs.node);
  const row = (name, ms) => log(`${name.padEnd(34)} ${ms.toFixed(0).padStart(5)} ms wall   ${(ms / node).toFixed(2)}x bare node`);
  row("bare node -e 0", node);
  if (baseline) row("lint one file, BNLINT_BASELINE bin", median(runs.baseline));
  row("lint one file, unbundled dist/src", median(runs.unbundled));
  row("lint one file, bundle, V8 defaults", median(runs.bundledDefault));
  row("lint one file, bundle (bin)", median(runs.bundled));
  row("--version, bundle (bin)", median(runs.bundledVersion));
  if (baseline) log(`bundle vs baseline: ${(median(runs.bundled) / median(runs.baseline)).toFixed(2)}x`);
  log(`bundle vs unbundled: ${(median(runs.bundled) / median(runs.unbundled)).toFixed(2)}x   (target: < 150 ms wall where bare node takes ~100 ms)`);
}

// Whole lint vs bare tree-sitter parsing of the same files, in this process; files/s; peak memory;
// single-file CLI start-up against a bare `node` start in the same run.
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { getPythonParser } from "../dist/src/frontend/python/parser.js";
import { lintText } from "../dist/src/engine/linter.js";
import { rules } from "../dist/rules/index.js";

const CORPUS = ["/usr/lib/python3/dist-packages/torchvision", "/usr/lib/python3/dist-packages/torch/nn"];
const repo = new URL("../", import.meta.url).pathname;

function pyFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) pyFiles(full, out);
    else if (name.endsWith(".py")) out.push(full);
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU time of this process (user + system) in ms: other processes on the machine barely move it. */
function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs the two workloads in alternation and returns each one's median CPU time, the per-round CPU times, and
 * the per-round wall times. CPU time counts V8's helper threads too (concurrent GC, optimising compiler),
 * which run beside the lint on another core; wall time is what a user waits.
 */
async function compare(a, b, rounds) {
  const ta = [];
  const tb = [];
  const wa = [];
  const wb = [];
  for (let i = 0; i < rounds; i++) {
    let t0 = cpuMs();
    let w0 = performance.now();
    await a();
    ta.push(cpuMs() - t0);
    wa.push(performance.now() - w0);
    t0 = cpuMs();
    w0 = performance.now();
    await b();
    tb.push(cpuMs() - t0);
    wb.push(performance.now() - w0);
  }
  return [median(ta), median(tb), ta, tb, wa, wb];
}

const spread = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

export default async function (log) {
  const dirs = CORPUS.filter((d) => existsSync(d));
  if (dirs.length === 0) {
    log("corpus missing: apt-get install -y python3-torch python3-torchvision");
    return;
  }
  const files = dirs.flatMap((d) => pyFiles(d)).map((f) => ({ path: f, text: readFileSync(f, "utf8") }));
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  const parser = await getPythonParser();
  const parseAll = () => {
    for (const f of files) parser.parse(f.text)?.delete();
  };
  const lintAll = async () => {
    for (const f of files) await lintText(f.text, f.path);
  };
  parseAll();
  await lintAll(); // warm-up: JIT, wasm
  const rounds = 7;
  const [parseMs, lintMs, parseRounds, lintRounds, parseWall, lintWall] = await compare(parseAll, lintAll, rounds);
  log(`corpus: ${files.length} files, ${(bytes / 1048576).toFixed(1)} MB (${dirs.join(", ")})`);
  log(`bare parse: ${parseMs.toFixed(0)} ms   whole lint: ${lintMs.toFixed(0)} ms   (CPU time, median of ${rounds} alternating rounds; rounds ranged ${spread(parseRounds)} and ${spread(lintRounds)} ms)`);
  // Other load on the machine only ever adds time, so the fastest rounds are the least disturbed comparison.
  const fastest = Math.min(...lintRounds) / Math.min(...parseRounds);
  const ratios = parseRounds.map((p, i) => lintRounds[i] / p);
  log(`lint / parse ratio, CPU: ${fastest.toFixed(2)}x fastest rounds, ${(lintMs / parseMs).toFixed(2)}x medians   (per round ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x; target <= 1.3x)`);
  log(`lint / parse ratio, wall: ${(Math.min(...lintWall) / Math.min(...parseWall)).toFixed(2)}x fastest rounds, ${(median(lintWall) / median(parseWall)).toFixed(2)}x medians   (${Math.min(...lintWall).toFixed(0)} vs ${Math.min(...parseWall).toFixed(0)} ms)`);
  // The rules issue #2 names (reused, unused, logits), against the same bare parse in alternation.
  const coreRules = rules.filter((r) => ["reused-batchnorm", "unused-batchnorm", "batchnorm-on-logits"].includes(r.meta.id));
  const lintCore = async () => {
    for (const f of files) await lintText(f.text, f.path, { ruleSet: coreRules });
  };
  const [, , parseRounds3, coreRounds, parseWall3, coreWall] = await compare(parseAll, lintCore, rounds);
  const ratios3 = parseRounds3.map((p, i) => coreRounds[i] / p);
  log(`lint / parse ratio, issue-2 rules only, CPU: ${(Math.min(...coreRounds) / Math.min(...parseRounds3)).toFixed(2)}x fastest rounds   (per round ${Math.min(...ratios3).toFixed(2)}–${Math.max(...ratios3).toFixed(2)}x; target <= 1.3x)`);
  log(`lint / parse ratio, issue-2 rules only, wall: ${(Math.min(...coreWall) / Math.min(...parseWall3)).toFixed(2)}x fastest rounds, ${(median(coreWall) / median(parseWall3)).toFixed(2)}x medians`);
  log(`throughput: ${(files.length / (lintMs / 1000)).toFixed(0)} files/s, ${(bytes / 1048576 / (lintMs / 1000)).toFixed(1)} MB/s`);
  log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

  const seed = join(repo, "fixtures/seed/keras_cifar2.py");
  const wall = (args) => {
    const t0 = performance.now();
    spawnSync(process.execPath, args, { stdio: "ignore" });
    return performance.now() - t0;
  };
  const nodeOnly = median(Array.from({ length: 7 }, () => wall(["-e", "0"])));
  const cli = median(Array.from({ length: 7 }, () => wall([join(repo, "bin/bnlint.js"), seed])));
  log(`CLI start-up on one file: ${cli.toFixed(0)} ms wall (bare node: ${nodeOnly.toFixed(0)} ms, ratio ${(cli / nodeOnly).toFixed(1)}x; target < 150 ms)`);
}

// Cost of the evaluation-mode rules (script analysis, DataLoader loops, momentum, conv bias) over the core rules,
// measured in this process on the same files: a training script and torchvision's ResNet.
import { readFileSync } from "node:fs";
import { lintText } from "../dist/src/index.js";
import { rules } from "../dist/rules/index.js";

const CORE = new Set(["reused-batchnorm", "unused-batchnorm", "batchnorm-on-logits"]);
const NEW = new Set(["missing-eval", "batchnorm-momentum", "conv-bias-before-batchnorm", "batchnorm-batch-size-one"]);
const files = [
  new URL("../fixtures/missing-eval/mnist_test_without_eval.py", import.meta.url).pathname,
  new URL("../fixtures/missing-eval/eval_in_caller.py", import.meta.url).pathname,
  "/usr/lib/python3/dist-packages/torchvision/models/resnet.py",
];

async function timeIt(ruleSet, enableAll, rounds) {
  const texts = files.map((f) => [f, readFileSync(f, "utf8")]);
  const options = { ruleSet, rules: enableAll ? Object.fromEntries(ruleSet.map((r) => [r.meta.id, "warning"])) : undefined };
  for (const [f, t] of texts) await lintText(t, f, options); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const [f, t] of texts) await lintText(t, f, options);
  return Number(process.hrtime.bigint() - start) / 1e6 / rounds;
}

export default async function (log) {
  const core = rules.filter((r) => CORE.has(r.meta.id));
  const withNew = rules.filter((r) => CORE.has(r.meta.id) || NEW.has(r.meta.id));
  const rounds = 20;
  const base = await timeIt(core, false, rounds);
  const all = await timeIt(withNew, true, rounds);
  log(`core rules only (baseline): 1.00`);
  log(`core + evaluation-mode rules (all enabled, opt-in too): ${(all / base).toFixed(2)}x the baseline time`);
}

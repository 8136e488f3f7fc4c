import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

/** Debian's Python, which has torch when `python3-torch` is installed (`.ci/run` installs it). */
export const DEBIAN_PYTHON = "/usr/bin/python3";
export const TORCHVISION_MODELS = "/usr/lib/python3/dist-packages/torchvision/models";
export const TORCH_NN = "/usr/lib/python3/dist-packages/torch/nn";

let torchAvailable: boolean | undefined;
export function hasTorch(): boolean {
  torchAvailable ??= existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
  return torchAvailable;
}

/**
 * Whether a test that needs a system package should run. In CI (`CI` set) the package must be there, so the
 * test runs and fails loudly when it is missing; locally it is skipped with a note.
 */
export function requireSystem(what: string, available: boolean): boolean {
  if (available) return true;
  if (process.env.CI) return true;
  console.warn(`skipping: ${what} is not installed (apt-get install it, or run .ci/run)`);
  return false;
}

/**
 * Real bugs bnlint reports in Debian's torchvision, as `file:line rule`. MaxViT (before torchvision 0.18) copied
 * TensorFlow's BatchNorm momentum, `partial(nn.BatchNorm2d, eps=1e-3, momentum=0.99)`: pytorch/vision#8250,
 * fixed to 0.01 by pytorch/vision#8312. A torchvision with the fix has none.
 */
export function knownTorchvisionBugs(): string[] {
  const file = join(TORCHVISION_MODELS, "maxvit.py");
  if (!existsSync(file)) return [];
  const line = readFileSync(file, "utf8").split("\n").findIndex((l) => /partial\(nn\.BatchNorm2d, eps=1e-3, momentum=0\.99\)/.test(l));
  return line < 0 ? [] : [`${file}:${line + 1} batchnorm-momentum`];
}

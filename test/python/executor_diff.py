#!/usr/bin/python3
"""Replays a bnlint executor export in real PyTorch (the differential test of the executor).

Usage: executor_diff.py EXPORT_DIR... (one JSON line per folder, in order; a model that fails
prints {"error": ...}). Reads manifest.json, weights.bin and inputs.bin written by
src/executor/export.ts, re-creates the fixture's model with the same constructor arguments, loads the
weights, runs the same train-mode steps on the same batches (no gradient step: only the BatchNorm running
statistics move), then the held-out batch in eval mode. Prints JSON: running statistics per BatchNorm
module path and the eval-mode output. Dropout is disabled, as in the executor.
"""

import importlib.util
import json
import os
import sys
import warnings

sys.dont_write_bytecode = True
warnings.filterwarnings("ignore", message="Lazy modules are a new feature")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# On one process SyncBatchNorm computes what BatchNorm computes (it falls back to F.batch_norm when the world
# size is 1), and that is what bnlint's executor runs. PyTorch refuses it on CPU outright, so here it goes
# through BatchNorm's own forward.
nn.SyncBatchNorm.forward = nn.modules.batchnorm._BatchNorm.forward


def load_module(path):
    """A fixture by its path; an installed package's file (torchvision's) by its module name, for its relative imports."""
    for root in sys.path:
        if root and path.startswith(os.path.join(root, "")) and os.path.basename(root) in ("dist-packages", "site-packages"):
            return importlib.import_module(os.path.relpath(path, root)[:-3].replace(os.sep, "."))
    spec = importlib.util.spec_from_file_location("bnlint_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(export_dir):
    torch.set_num_threads(1)
    with open(os.path.join(export_dir, "manifest.json")) as f:
        m = json.load(f)
    module = load_module(m["file"])
    # An argument bnlint evaluated from the file's own expression (`make_layers(CFG)`) is evaluated here too.
    kwargs = {k: eval(v["expr"], vars(module)) if isinstance(v, dict) else v for k, v in m["kwargs"].items()}
    model = getattr(module, m["className"])(**kwargs)

    inputs = np.fromfile(os.path.join(export_dir, "inputs.bin"), dtype=np.float32)
    batches = []
    at = 0
    for _ in range(m["batches"]):
        batch = []
        for shape, vocab in zip(m["inputShapes"], m.get("inputVocabs") or [None] * len(m["inputShapes"])):
            n = int(np.prod(shape))
            t = torch.from_numpy(inputs[at:at + n].copy()).reshape(shape)
            # Inputs an embedding reads are token ids: int64 in PyTorch.
            batch.append(t.long() if vocab is not None else t)
            at += n
        batches.append(batch)

    # Lazy modules get their sizes from a first forward pass; in eval mode it moves no running statistics.
    if any(isinstance(mod, nn.modules.lazy.LazyModuleMixin) for mod in model.modules()):
        model.eval()
        with torch.no_grad():
            model(*[torch.zeros_like(t) for t in batches[0]])

    weights = np.fromfile(os.path.join(export_dir, "weights.bin"), dtype=np.float32)
    state = model.state_dict()
    at = 0
    for p in m["params"]:
        if p["key"] not in state:
            raise SystemExit("unknown state-dict key from the executor: " + p["key"])
        values = torch.from_numpy(weights[at:at + p["length"]].copy()).reshape(p["shape"])
        if tuple(state[p["key"]].shape) != tuple(values.shape):
            raise SystemExit("shape mismatch for %s: torch %s, executor %s" % (p["key"], tuple(state[p["key"]].shape), tuple(values.shape)))
        state[p["key"]].copy_(values)
        at += p["length"]

    for mod in model.modules():
        if isinstance(mod, nn.modules.dropout._DropoutNd):
            mod.p = 0.0
    F.dropout = lambda x, *a, **k: x

    with torch.no_grad():
        model.train()
        for batch in batches[:m["steps"]]:
            model(*batch)
        stats = {}
        for name, mod in model.named_modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm) and mod.running_mean is not None:
                stats[name] = {"mean": mod.running_mean.tolist(), "var": mod.running_var.tolist()}
        model.eval()
        out = model(*batches[m["steps"]])
        if isinstance(out, (tuple, list)):
            out = out[0]  # the executor compares the first returned tensor
    return {"runningStats": stats, "evalOutput": out.flatten().tolist(), "evalShape": list(out.shape)}


if __name__ == "__main__":
    for export_dir in sys.argv[1:]:
        try:
            result = main(export_dir)
        except BaseException as e:  # one model's failure must not hide the others' results
            result = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(result), flush=True)

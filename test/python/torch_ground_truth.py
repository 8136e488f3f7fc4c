#!/usr/bin/python3
"""Ground truth for bnlint fixtures: run each fixture's models in real PyTorch.

For every fixture file and every ``# torch-check: Class(args) input=(shape);(shape)`` header
line, the model is instantiated (seed 0), a forward hook is put on every BatchNorm module
(anything derived from ``torch.nn.modules.batchnorm._BatchNorm``, which includes SyncBatchNorm
and the Lazy variants), one train-mode forward runs on ``torch.randn`` inputs (token ids for ``ids<n>(shape)``), and the number
of runs of each BatchNorm is reported.

stdout: one JSON object per fixture file (JSON lines). stderr: diagnostics and a summary.
With ``--check`` the ``# expect: [...]`` markers of each file are compared with what ran;
see test/python/README.md for what is checked.

Must be run with a Python that has torch (Debian's: /usr/bin/python3).
"""

import argparse
import ast
import importlib.util
import json
import os
import re
import sys
import traceback
import warnings

sys.dont_write_bytecode = True  # do not leave __pycache__ folders in fixtures/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm, _NormBase

from check_inputs import make_inputs, parse_inputs

CHECK_RE = re.compile(r"#\s*torch-check:\s*([A-Za-z_][A-Za-z0-9_]*)\((.*)\)\s+input=(.+?)\s*$")
EXPECT_RE = re.compile(r"#\s*expect:\s*\[([^\]]*)\]")
RULES_IN_SCOPE = {"reused-batchnorm", "unused-batchnorm", "batchnorm-on-logits"}


def log(msg):
    print(msg, file=sys.stderr)


# --------------------------------------------------------------------------- source lines

class FileLines:
    """Finds the innermost stack frame that belongs to the fixture file being run."""

    current = None  # absolute path of the fixture being imported/run

    @classmethod
    def innermost_line(cls):
        if cls.current is None:
            return None
        f = sys._getframe(1)
        while f is not None:
            if os.path.abspath(f.f_code.co_filename) == cls.current:
                return f.f_lineno
            f = f.f_back
        return None


# Record where (which fixture line) each BatchNorm is constructed, on the instance itself
# (ids of collected modules are reused, so an id-keyed table would go stale).
DECL_ATTR = "_torch_ground_truth_decl_line"
_orig_normbase_init = _NormBase.__init__


def _recording_init(self, *args, **kwargs):
    _orig_normbase_init(self, *args, **kwargs)
    if DECL_ATTR not in self.__dict__:  # outermost constructor call wins
        self.__dict__[DECL_ATTR] = FileLines.innermost_line()


_NormBase.__init__ = _recording_init


# SyncBatchNorm refuses to run on CPU ("expected input tensor to be on GPU"). Without a
# process group it would compute exactly what BatchNorm computes, so run it as plain
# _BatchNorm.forward (hooks still fire, since they live in Module.__call__).
SYNC_NOTE = "SyncBatchNorm run as plain BatchNorm (CPU, no process group)"


def _sync_bn_cpu_forward(self, input):
    return _BatchNorm.forward(self, input)


nn.SyncBatchNorm.forward = _sync_bn_cpu_forward


# --------------------------------------------------------------------------- parsing

def read_header(path):
    checks, markers = [], {}
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for lineno, line in enumerate(lines, 1):
        m = CHECK_RE.search(line)
        if m:
            checks.append({"line": lineno, "class": m.group(1), "args": m.group(2), "input": m.group(3)})
            continue
        m = EXPECT_RE.search(line)
        if m:
            rules = [r.strip() for r in m.group(1).split(",") if r.strip()]
            markers[lineno] = rules
    return checks, markers


def import_fixture(path, index):
    name = "bnlint_fixture_%d_%s" % (index, re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- running

def tensors_in(obj):
    if torch.is_tensor(obj):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from tensors_in(o)


def relation_to_output(bn_out, outputs):
    """How a BatchNorm's (last) output relates to a model output, if it is one up to
    shape-only ops and an output activation; None otherwise."""
    if bn_out is None:
        return None
    for out in outputs:
        if out.numel() != bn_out.numel() or not out.is_floating_point():
            continue
        y = bn_out.reshape(out.shape)
        candidates = [("reshape", y), ("sigmoid", torch.sigmoid(y))]
        if out.dim() >= 1:
            candidates += [("softmax", F.softmax(y, dim=-1)), ("log_softmax", F.log_softmax(y, dim=-1))]
        if out.dim() >= 2:
            candidates += [("softmax", F.softmax(y, dim=1)), ("log_softmax", F.log_softmax(y, dim=1))]
        for name, cand in candidates:
            if torch.allclose(cand, out, atol=1e-6, rtol=1e-5):
                return name
    return None


def run_model(module, check, path):
    entry = {"class": check["class"], "ctor": "%s(%s)" % (check["class"], check["args"]),
             "input": check["input"], "header_line": check["line"], "ok": False, "error": None,
             "batchnorm_calls": {}, "batchnorm": [], "notes": []}
    hooks = []
    try:
        specs = parse_inputs(check["input"])
        cls = getattr(module, check["class"], None)
        if cls is None:
            raise NameError("class %s not found in %s" % (check["class"], path))
        torch.manual_seed(0)
        model = eval("__gt_cls(%s)" % check["args"], dict(vars(module), __gt_cls=cls))
        if not isinstance(model, nn.Module):
            raise TypeError("%s is not an nn.Module" % check["class"])

        # One record per BatchNorm *instance*; an instance reachable under several names
        # (self.bn2 = self.bn1, one BN passed to two blocks) is listed once, under the first
        # path named_modules() gives, with the other paths as aliases.
        records = {}
        order = []
        for mpath, mod in model.named_modules(remove_duplicate=False):
            if not isinstance(mod, _BatchNorm):
                continue
            key = id(mod)
            if key not in records:
                records[key] = {"path": mpath, "aliases": [], "type": type(mod).__name__,
                                "calls": 0, "call_lines": [], "decl_line": mod.__dict__.get(DECL_ATTR),
                                "_out": None}
                order.append(key)
                if isinstance(mod, nn.SyncBatchNorm) and SYNC_NOTE not in entry["notes"]:
                    entry["notes"].append(SYNC_NOTE)
            else:
                records[key]["aliases"].append(mpath)

            def hook(m, inp, out, rec=records[key]):
                rec["calls"] += 1
                rec["call_lines"].append(FileLines.innermost_line())
                rec["_out"] = out.detach().clone() if torch.is_tensor(out) else None  # clone: a later inplace op must not change it

            # register once per instance
            if not records[key]["aliases"]:
                hooks.append(mod.register_forward_hook(hook))

        torch.manual_seed(0)
        inputs = make_inputs(specs)
        model.train()
        with torch.no_grad():
            output = model(*inputs)
        outputs = list(tensors_in(output))

        for key in order:
            rec = records[key]
            rec["type"] = type(next(m for m in model.modules() if id(m) == key)).__name__
            rec["reaches_output"] = relation_to_output(rec.pop("_out"), outputs)
            entry["batchnorm"].append(rec)
            entry["batchnorm_calls"][rec["path"]] = rec["calls"]
        entry["ok"] = True
    except BaseException as exc:  # never crash on a bad fixture (SystemExit included)
        if isinstance(exc, KeyboardInterrupt):
            raise
        entry["error"] = "%s: %s" % (type(exc).__name__, exc)
        log("%s: %s failed:\n%s" % (path, entry["ctor"], traceback.format_exc()))
    finally:
        for h in hooks:
            h.remove()
    return entry


# --------------------------------------------------------------------------- marker check

def check_markers(markers, models):
    """Compare the file's markers with what ran. Returns {"ok", "problems", "markers", "info"}."""
    problems, info, results = [], [], []
    bns = [bn for m in models if m["ok"] for bn in m["batchnorm"]]

    # Aggregate per declaration line: a line whose BatchNorms never ran anywhere is unused.
    calls_by_decl = {}
    for bn in bns:
        if bn["decl_line"] is not None:
            calls_by_decl[bn["decl_line"]] = calls_by_decl.get(bn["decl_line"], 0) + bn["calls"]
    multi = [bn for bn in bns if bn["calls"] >= 2]

    for line, rules in sorted(markers.items()):
        for rule in rules:
            if rule not in RULES_IN_SCOPE:
                status = "out-of-scope"
                problems.append("line %d: marker for rule %s, not in this corpus' scope" % (line, rule))
            elif rule == "reused-batchnorm":
                if any(line in bn["call_lines"][1:] for bn in multi):
                    status = "confirmed"  # a later run (2nd, 3rd, ...) of some BN was called from this line
                elif any(line in bn["call_lines"] for bn in bns):
                    status = "first-run-only"
                    problems.append("line %d: reused-batchnorm marker on a line that only makes a first run" % line)
                elif any(bn["aliases"] for bn in multi):
                    # marker in a Sequential/list literal: the runtime call line is the
                    # container's; the instance sits under several paths (features.1, features.4)
                    status = "confirmed-by-aliases"
                elif multi:
                    status = "plausible"
                else:
                    status = "contradicted"
                    problems.append("line %d: reused-batchnorm marker but no BatchNorm ran twice" % line)
            elif rule == "unused-batchnorm":
                if line in calls_by_decl and calls_by_decl[line] == 0:
                    status = "confirmed"
                else:
                    status = "contradicted"
                    problems.append("line %d: unused-batchnorm marker but no never-run BatchNorm is declared here" % line)
            else:  # batchnorm-on-logits
                if any(line in bn["call_lines"] and bn["reaches_output"] for bn in bns):
                    status = "confirmed"
                else:
                    status = "contradicted"
                    problems.append("line %d: batchnorm-on-logits marker but no BatchNorm called here is the model output" % line)
            results.append({"line": line, "rule": rule, "status": status})

    for decl, calls in sorted(calls_by_decl.items()):
        if calls == 0 and "unused-batchnorm" not in markers.get(decl, []):
            problems.append("line %d: BatchNorm declared here never ran, and has no unused-batchnorm marker" % decl)
    for bn in bns:
        if bn["decl_line"] is None and bn["calls"] == 0:
            problems.append("BatchNorm %s never ran (declaration line unknown)" % bn["path"])

    marked_reuse = {l for l, r in markers.items() if "reused-batchnorm" in r}
    for bn in multi:
        if not marked_reuse.intersection(bn["call_lines"]):
            info.append("%s ran %d times from lines %s without a reuse marker on those lines"
                        % (bn["path"], bn["calls"], sorted(set(bn["call_lines"]))))
    marked_logits = {l for l, r in markers.items() if "batchnorm-on-logits" in r}
    for bn in bns:
        if bn["reaches_output"] and not marked_logits.intersection(bn["call_lines"]):
            info.append("%s output is a model output (%s) without a logits marker"
                        % (bn["path"], bn["reaches_output"]))
    return {"ok": not problems, "problems": problems, "markers": results, "info": info}


# --------------------------------------------------------------------------- main

def collect(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, names in os.walk(p):
                files += [os.path.join(root, n) for n in names if n.endswith(".py")]
        else:
            files.append(p)
    return sorted(set(os.path.abspath(f) for f in files))


def display_path(path):
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def run_file(path, index, do_check):
    result = {"file": display_path(path), "models": []}
    markers = {}
    try:
        try:
            checks, markers = read_header(path)
        except Exception as exc:
            result["error"] = "cannot read: %s" % exc
            return result
        if not checks:
            result["error"] = "no '# torch-check:' line"
        FileLines.current = path
        try:
            module = import_fixture(path, index)
        except BaseException as exc:  # SystemExit from a fixture must not end the run either
            if isinstance(exc, KeyboardInterrupt):
                raise
            result["error"] = "import failed: %s: %s" % (type(exc).__name__, exc)
            log("%s: import failed:\n%s" % (path, traceback.format_exc()))
            return result
        for check in checks:
            result["models"].append(run_model(module, check, path))
        return result
    finally:
        FileLines.current = None
        if do_check:
            result["check"] = check_markers(markers, result["models"])
            if result.get("error"):
                result["check"]["ok"] = False
                result["check"]["problems"].insert(0, result["error"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", default=["fixtures"], help="fixture files or folders (default: fixtures)")
    ap.add_argument("--check", action="store_true", help="compare '# expect:' markers with the observed runs")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Lazy modules are a new feature")
    files = collect(args.paths)
    n_models = n_failed = n_check_failed = n_file_errors = 0
    for i, path in enumerate(files):
        res = run_file(path, i, args.check)
        print(json.dumps(res), flush=True)
        n_models += len(res["models"])
        n_failed += sum(not m["ok"] for m in res["models"])
        if res.get("error"):
            n_file_errors += 1
            log("FAIL %s: %s" % (res["file"], res["error"]))
        if args.check and not res["check"]["ok"]:
            n_check_failed += 1
            for p in res["check"]["problems"]:
                log("CHECK %s: %s" % (res["file"], p))
    log("%d files (%d with file-level errors), %d models run, %d failed%s" % (
        len(files), n_file_errors, n_models, n_failed,
        (", %d files with marker problems" % n_check_failed) if args.check else ""))
    return 1 if (n_failed or n_check_failed or n_file_errors) else 0


if __name__ == "__main__":
    sys.exit(main())

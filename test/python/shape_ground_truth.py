#!/usr/bin/python3
"""Shape ground truth for bnlint fixtures: does each fixture model run in real PyTorch, and if
not, which fixture line raised what?

For every ``# torch-check: Class(args) input=(shape)`` header line the model is built (seed 0)
and run once in train mode on ``torch.randn`` inputs. stdout: one JSON object per fixture
file::

  {"file": ..., "models": [{"class", "ctor", "input", "params", "ok", "error", "error_type",
                            "lines", "module_line"}]}

``params`` are the constructor's bound arguments with defaults (numbers only), so a symbolic
size in a bnlint message (``planes * 2``) can be evaluated. ``lines`` are the fixture lines on
the failing stack, outermost first; ``module_line`` is the fixture line that constructed the
module whose forward raised (for a module inside nn.Sequential that is where bnlint reports).

Must be run with a Python that has torch (Debian's: /usr/bin/python3).
"""

import importlib.util
import inspect
import json
import os
import re
import sys
import traceback
import warnings

sys.dont_write_bytecode = True

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_inputs import make_inputs, parse_inputs  # noqa: E402

CHECK_RE = re.compile(r"#\s*torch-check:\s*([A-Za-z_][A-Za-z0-9_]*)\((.*)\)\s+input=(.+?)\s*$")
DECL_ATTR = "_shape_ground_truth_decl_line"
CURRENT = {"path": None}


def fixture_line():
    f = sys._getframe(1)
    while f is not None:
        if os.path.abspath(f.f_code.co_filename) == CURRENT["path"]:
            return f.f_lineno
        f = f.f_back
    return None


_orig_module_init = nn.Module.__init__


def _recording_init(self, *args, **kwargs):
    _orig_module_init(self, *args, **kwargs)
    if DECL_ATTR not in self.__dict__:
        self.__dict__[DECL_ATTR] = fixture_line()


nn.Module.__init__ = _recording_init

# SyncBatchNorm refuses CPU input; without a process group it computes what BatchNorm computes,
# shape checks included, so run it as plain BatchNorm (as torch_ground_truth.py does).
nn.SyncBatchNorm.forward = lambda self, input: torch.nn.modules.batchnorm._BatchNorm.forward(self, input)


def bound_params(cls, args_text, namespace):
    try:
        args, kwargs = eval("(lambda *a, **k: (a, k))(%s)" % args_text, namespace)
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        bound.apply_defaults()
        return {k: v for k, v in list(bound.arguments.items())[1:] if isinstance(v, (int, float)) and not isinstance(v, bool)}
    except Exception:  # only a help for reading messages
        return {}


def run_check(module, m, path):
    cls_name, args_text, input_text = m.group(1), m.group(2), m.group(3)
    entry = {"class": cls_name, "ctor": "%s(%s)" % (cls_name, args_text), "input": input_text, "params": {},
             "ok": False, "error": None, "error_type": None, "lines": [], "module_line": None}
    try:
        specs = parse_inputs(input_text)
        cls = getattr(module, cls_name)
        namespace = dict(vars(module))
        entry["params"] = bound_params(cls, args_text, namespace)
        torch.manual_seed(0)
        model = eval("%s(%s)" % (cls_name, args_text), namespace)
        inputs = make_inputs(specs)
        model.train()
        with torch.no_grad():
            model(*inputs)
        entry["ok"] = True
    except Exception as exc:
        entry["error"] = str(exc)
        entry["error_type"] = type(exc).__name__
        tb = exc.__traceback__
        raising_module = None
        while tb is not None:
            frame = tb.tb_frame
            if os.path.abspath(frame.f_code.co_filename) == CURRENT["path"]:
                entry["lines"].append(tb.tb_lineno)
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, nn.Module) and frame.f_code.co_name == "forward":
                raising_module = candidate
            tb = tb.tb_next
        if raising_module is not None:
            entry["module_line"] = raising_module.__dict__.get(DECL_ATTR)
    return entry


def main(paths):
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += [os.path.join(r, n) for r, _d, ns in os.walk(p) for n in ns if n.endswith(".py")]
        else:
            files.append(p)
    for i, path in enumerate(sorted(os.path.abspath(f) for f in files)):
        result = {"file": path, "models": [], "error": None}
        CURRENT["path"] = path
        try:
            with open(path, encoding="utf-8") as fh:
                checks = [m for m in (CHECK_RE.search(line) for line in fh.read().splitlines()) if m]
            spec = importlib.util.spec_from_file_location("shape_fixture_%d" % i, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            result["models"] = [run_check(module, m, path) for m in checks]
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            result["error"] = "%s: %s" % (type(exc).__name__, exc)
            traceback.print_exc()
        finally:
            CURRENT["path"] = None
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["fixtures"]))

"""The inputs of a ``# torch-check:`` line: ``input=(8, 3, 32, 32);(8, 6)`` gives float tensors of those
shapes; a part written ``ids<5>(8, 3)`` gives int64 token ids below 5 (for a model an embedding reads)."""

import ast
import re

import torch

IDS_RE = re.compile(r"^ids<(\d+)>(.*)$")


def parse_inputs(text):
    """[(shape, vocab or None)] for the text after ``input=``."""
    specs = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        vocab = None
        m = IDS_RE.match(part)
        if m:
            vocab, part = int(m.group(1)), m.group(2).strip()
        shape = ast.literal_eval(part)
        if isinstance(shape, int):
            shape = (shape,)
        if not (isinstance(shape, tuple) and all(isinstance(d, int) and d > 0 for d in shape)):
            raise ValueError("bad input shape %r" % part)
        specs.append((shape, vocab))
    if not specs:
        raise ValueError("no input shape")
    return specs


def make_inputs(specs):
    return [torch.randint(0, vocab, shape) if vocab is not None else torch.randn(*shape) for shape, vocab in specs]

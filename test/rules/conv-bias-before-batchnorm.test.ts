import { describe, expect, it } from "vitest";
import { runRuleTests, py } from "../helpers/rule-tester.js";
import { lintText } from "../../src/index.js";
import rule from "../../rules/conv-bias-before-batchnorm.js";

const net = (conv: string, forward = "return self.bn(self.conv(x))"): string => py`
  import torch.nn as nn

  class Net(nn.Module):
      def __init__(self, planes):
          super().__init__()
          self.conv = ${conv}
          self.bn = nn.BatchNorm2d(planes)

      def forward(self, x):
          ${forward}
`;

runRuleTests(rule, {
  valid: [
    {
      name: "a permute that does not bring the Linear's features to dimension 1",
      code: py`
        import torch.nn as nn

        class Proj(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.linear = nn.Linear(c, c)
                self.bn = nn.BatchNorm2d(c)

            def forward(self, x):
                return self.bn(self.linear(x).permute(0, 1, 3, 2))
      `,
    },
    {
      // wav2letter: the CTC output layer is `Conv1dBlock(..., bn=False)`, built by a class whose forward its base defines.
      name: "a block built with `bn=False` by a class bnlint builds no graph for",
      code: py`
        import torch.nn as nn
        from base_asr_models import ConvCTCASR

        class Block(nn.Module):
            def __init__(self, cin, cout, bn=True):
                super().__init__()
                self.conv = nn.Conv1d(cin, cout, 3)
                self.norm = nn.BatchNorm1d(cout) if bn else nn.Identity()

            def forward(self, x):
                return self.norm(self.conv(x))

        class Net(ConvCTCASR):
            def __init__(self, n_labels=29):
                super().__init__()
                self.body = nn.Sequential(Block(161, 250), Block(250, n_labels, bn=False))
      `,
    },
    {
      name: "a block whose BatchNorm is an Identity in the instance a parent builds with bn=False (wav2letter's output layer)",
      code: py`
        import torch
        import torch.nn as nn

        class ConvBlock(nn.Module):
            def __init__(self, cin, cout, bn=True):
                super().__init__()
                self.conv = nn.Conv1d(cin, cout, 3, padding=1)
                self.norm = nn.BatchNorm1d(cout) if bn else nn.Identity()

            def forward(self, x):
                return self.norm(self.conv(x))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = ConvBlock(40, 64)
                self.head = ConvBlock(64, 29, bn=False)

            def forward(self, x):
                return self.head(torch.relu(self.body(x)))
      `,
    },
    net("nn.Conv2d(3, planes, 3, bias=False)"),
    net("nn.Conv2d(3, planes, 3, 1, 1, 1, 1, False)"),
    net("nn.Conv2d(3, planes * 2, 3)"),
    net("nn.Conv2d(3, planes, 3)", "return self.bn(self.conv(x).relu())"),
    net("nn.Conv2d(3, planes, 3)", "y = self.conv(x)\n        return self.bn(y) + y"),
  ],
  invalid: [
    {
      // aladdinpersson's VGG: `if type(x) == int:` over a config of ints and "M".
      name: "layers built under `type(x) == int` over a VGG config",
      code: py`
        import torch.nn as nn

        class VGG(nn.Module):
            def __init__(self, in_channels=3):
                super().__init__()
                layers = []
                for x in [64, "M", 128]:
                    if type(x) == int:
                        layers += [nn.Conv2d(in_channels, x, 3, padding=1), nn.BatchNorm2d(x), nn.ReLU()]
                        in_channels = x
                    elif type(x) is str:
                        layers += [nn.MaxPool2d(2)]
                self.features = nn.Sequential(*layers)

            def forward(self, x):
                return self.features(x)
      `,
      errors: [
        { messageId: "wastedBias", line: 9, column: 28, messageIncludes: "`self.features[1]` (BatchNorm2d(x))" },
      ],
    },
    {
      // Person re-ID's ClassBlock: a call passing `bnorm=True`, the default, keeps the BatchNorm.
      name: "an optional BatchNorm that every call in the file keeps (the switch passed as its default)",
      code: py`
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, cin, cout, bnorm=True):
                super().__init__()
                self.fc = nn.Linear(cin, cout)
                self.bn = nn.BatchNorm1d(cout) if bnorm else nn.Identity()

            def forward(self, x):
                return self.bn(self.fc(x))

        def make_heads(n):
            return [Block(2048, 256, bnorm=True) for _ in range(n)]
      `,
      errors: [{ messageId: "wastedBias", line: 6, column: 19 }],
    },
    {
      // PointConv: `self.bn_linear(self.linear(x).permute(0, 2, 1))`.
      name: "a Linear whose output is permuted to channels-first for BatchNorm1d",
      code: py`
        import torch.nn as nn

        class Proj(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.linear = nn.Linear(cin, cout)
                self.bn = nn.BatchNorm1d(cout)

            def forward(self, x):
                return self.bn(self.linear(x).permute(0, 2, 1))
      `,
      errors: [{ messageId: "wastedBias", line: 6, column: 23, messageIncludes: "goes through a `.permute(...)`, which only moves its features to the channel dimension, into `self.bn`" }],
    },
    {
      // R(2+1)D: the intermediate width is computed from `_triple(kernel_size)`; conv and BatchNorm share it.
      name: "a width computed through torch's _triple, shared by the conv and its BatchNorm",
      code: py`
        import torch.nn as nn
        from torch.nn.modules.utils import _triple
        class SpatioTemporalConv(nn.Module):
            def __init__(self, c_in, c_out, k=3):
                super().__init__()
                k = _triple(k)
                mid = (k[0] * c_in * c_out) // (k[1] * c_in + k[0] * c_out)
                self.spatial = nn.Conv3d(c_in, mid, (1, k[1], k[2]), padding=(0, k[1] // 2, k[2] // 2))
                self.bn = nn.BatchNorm3d(mid)
            def forward(self, x):
                return self.bn(self.spatial(x)).relu()
      `,
      errors: [{ messageId: "wastedBias", line: 8, messageIncludes: "`self.bn` (BatchNorm3d(mid))" }],
    },
    {
      // layumi's ClassBlock: a Dropout appended under `if droprate > 0` (droprate has no default) no longer hides
      // the Linear -> BatchNorm1d before it: the list keeps the items every arm has, and more may follow.
      name: "a layer list extended under an if bnlint cannot decide",
      code: py`
        import torch.nn as nn

        class ClassBlock(nn.Module):
            def __init__(self, input_dim, class_num, droprate, num_bottleneck=512):
                super().__init__()
                add_block = []
                add_block += [nn.Linear(input_dim, num_bottleneck)]
                add_block += [nn.BatchNorm1d(num_bottleneck)]
                if droprate > 0:
                    add_block += [nn.Dropout(p=droprate)]
                self.add_block = nn.Sequential(*add_block)
                self.classifier = nn.Linear(num_bottleneck, class_num)

            def forward(self, x):
                return self.classifier(self.add_block(x))
      `,
      errors: [{ messageId: "wastedBias", line: 7, messageIncludes: "`self.add_block[1]` (BatchNorm1d(num_bottleneck))" }],
    },
    { code: net("nn.Conv2d(3, planes, 3)"), errors: [{ messageId: "wastedBias", line: 6, column: 21, messageIncludes: ["Conv2d(3, planes, 3) has a bias", "`self.bn` (BatchNorm2d(planes))", "bias=False"] }] },
    { code: net("nn.Conv2d(3, planes, 3, bias=True)"), errors: [{ messageId: "wastedBias", line: 6, column: 50 }] },
    {
      name: "a constructor written over lines inside a tuple is quoted on one line",
      code: py`
        import torch.nn as nn
        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 64, kernel_size=(7, 7), stride=(2,
                    2), padding=(3, 3))
                self.bn = nn.BatchNorm2d(64)
            def forward(self, x):
                return self.bn(self.conv(x))
      `,
      errors: [{ messageId: "wastedBias", line: 5, column: 21, messageIncludes: "Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3)) has a bias" }],
    },
    {
      // An unrelated if/else in __init__ must not make the channel count `c` unknown (V-Net's LUConv).
      name: "an activation chosen by an if/else in __init__",
      code: py`
        import torch.nn as nn
        class LUConv(nn.Module):
            def __init__(self, c, elu):
                super().__init__()
                if elu:
                    self.act = nn.ELU(inplace=True)
                else:
                    self.act = nn.PReLU(c)
                self.conv = nn.Conv3d(c, c, 5, padding=2)
                self.bn = nn.BatchNorm3d(c)
            def forward(self, x):
                return self.act(self.bn(self.conv(x)))
      `,
      errors: [{ messageId: "wastedBias", line: 9, column: 21, messageIncludes: "Conv3d(c, c, 5, padding=2) has a bias" }],
    },
  ],
});

describe("conv-bias-before-batchnorm", () => {
  it("is off unless enabled", async () => {
    const result = await lintText(net("nn.Conv2d(3, planes, 3)"), "case.py");
    expect(result.messages.filter((m) => m.ruleId === rule.meta.id)).toEqual([]);
  });

  it("fixes by passing bias=False (unsafe)", async () => {
    for (const [conv, fixed] of [
      ["nn.Conv2d(3, planes, 3)", "nn.Conv2d(3, planes, 3, bias=False)"],
      ["nn.Conv2d(3, planes, 3, bias=True)", "nn.Conv2d(3, planes, 3, bias=False)"],
      ["nn.Conv2d(\n            3, planes, 3,\n        )", "nn.Conv2d(\n            3, planes, 3, bias=False\n        )"],
    ]) {
      const code = net(conv);
      const [m] = (await lintText(code, "case.py", { ruleSet: [rule], rules: { [rule.meta.id]: "warning" } })).messages;
      expect(m.fix?.safety).toBe("unsafe");
      const [edit] = m.fix!.edits;
      expect(code.slice(0, edit.range[0]) + edit.text + code.slice(edit.range[1])).toBe(net(fixed));
    }
  });
});

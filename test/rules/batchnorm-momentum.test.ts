import { describe, expect, it } from "vitest";
import { runRuleTests, py } from "../helpers/rule-tester.js";
import { lintText } from "../../src/index.js";
import rule from "../../rules/batchnorm-momentum.js";

runRuleTests(rule, {
  valid: [
    "import torch.nn as nn\nbn = nn.BatchNorm2d(64)\n",
    "import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum=0.1)\n",
    "import torch.nn as nn\nbn = nn.BatchNorm1d(64, 1e-5, 0.3)\n",
    "import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum=1.0)\n",
    "import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum=None)\n",
    "import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum=0.9, track_running_stats=False)\n",
    "import torch.nn as nn\nln = nn.LayerNorm(64)\nopt_momentum = 0.9\n",
    "from tensorflow import keras\nbn = keras.layers.BatchNormalization(momentum=0.99)\n",
    // 0.5 means the same in both conventions (1 - 0.5 = 0.5).
    "import torch.nn as nn\nbn = nn.BatchNorm1d(10, momentum=0.5)\n",
    "from tensorflow import keras\nbn = keras.layers.BatchNormalization(momentum=0.5)\n",
    "import tensorflow as tf\nbn = tf.keras.layers.BatchNormalization(-1, 0.9)\n",
    { name: "an SGD momentum is not a BatchNorm momentum", code: "import torch\nopt = torch.optim.SGD(params, lr=0.1, momentum=0.9)\n" },
    { name: "a usual eps, by position or keyword", code: "import torch.nn as nn\na = nn.BatchNorm2d(64, 1e-3)\nb = nn.BatchNorm1d(8, eps=0.001)\nc = nn.BatchNorm2d(8, 0.01)\n" },
    { name: "a PyTorch momentum set in a loop over modules (YOLO's initialize_weights)", code: py`
      import torch.nn as nn

      def initialize_weights(model):
          for m in model.modules():
              if isinstance(m, nn.BatchNorm2d):
                  m.eps = 1e-3
                  m.momentum = 0.03
    ` },
    { name: "a momentum attribute of something that is not a BatchNorm", code: py`
      import torch.nn as nn

      def tune(model, sched):
          sched.momentum = 0.9
          for m in model.modules():
              if isinstance(m, nn.Conv2d):
                  m.momentum = 0.9
    ` },
    { name: "Keras' epsilon is not read as PyTorch's eps", code: "from tensorflow import keras\nbn = keras.layers.BatchNormalization(-1, 0.99, 0.9)\n" },
  ],
  invalid: [
    { code: "import torch.nn as nn\nbn = nn.BatchNorm2d(64, momentum=0.9)\n", errors: [{ messageId: "torch", line: 2, column: 34, messageIncludes: ["`momentum=0.9` in BatchNorm2d(64, momentum=0.9)", "`momentum=0.1`"] }] },
    { code: "from torch.nn import SyncBatchNorm\nbn = SyncBatchNorm(64, 1e-3, 0.6)\n", errors: [{ messageId: "torch", line: 2, column: 30, messageIncludes: "`momentum=0.4`" }] },
    { code: "import torch.nn as nn\nbn = nn.BatchNorm3d(8, momentum=.997)\n", errors: [{ messageId: "torch", line: 2, messageIncludes: "`momentum=0.003`" }] },
    { name: "through a constructor default", code: py`
      import torch.nn as nn

      class Net(nn.Module):
          def __init__(self, bn_momentum=0.99):
              super().__init__()
              self.bn = nn.BatchNorm1d(16, momentum=bn_momentum)

          def forward(self, x):
              return self.bn(x)
    `, errors: [{ messageId: "torch", line: 6, column: 47, messageIncludes: "`momentum=0.01`" }] },
    { code: "from tensorflow.keras import layers\nbn = layers.BatchNormalization(momentum=0.1)\n", errors: [{ messageId: "keras", line: 2, column: 41, messageIncludes: "`momentum=0.9`" }] },
    { name: "a norm-layer factory, functools.partial(nn.BatchNorm2d, momentum=0.9), in an arm the defaults skip (a Flax port)", code: py`
      import functools
      import torch.nn as nn
      class Encoder(nn.Module):
          def __init__(self, norm_type=None):
              super().__init__()
              norm = nn.Identity
              if norm_type == "batch":
                  norm = functools.partial(nn.BatchNorm2d, momentum=0.9)
              self.conv = nn.Conv2d(3, 32, 3)
              self.norm = norm(32)
          def forward(self, x):
              return self.norm(self.conv(x))
    `, errors: [{ messageId: "torch", line: 8, column: 63, messageIncludes: "`momentum=0.9` in the factory `functools.partial(nn.BatchNorm2d, momentum=0.9)`" }] },
    { name: "a Keras momentum set in a loop over a list of the model's BatchNorms (microsoft VA-CNN)", code: py`
      import torch.nn as nn
      class Net(nn.Module):
          def __init__(self):
              super().__init__()
              self.bn1 = nn.BatchNorm2d(128)
              self.bn2 = nn.BatchNorm2d(128)
              for layer in [self.bn1, self.bn2]:
                  layer.momentum = 0.99
          def forward(self, x):
              return self.bn2(self.bn1(x))
    `, errors: [{ messageId: "assigned", line: 8, column: 30, messageIncludes: "on `self.bn1`, `self.bn2`, set after construction in the loop at line 7" }] },
    { name: "a Keras momentum set after construction, on an attribute and in a loop over modules", code: py`
      import torch.nn as nn

      class Net(nn.Module):
          def __init__(self):
              super().__init__()
              self.conv = nn.Conv2d(3, 16, 3, bias=False)
              self.bn = nn.BatchNorm2d(16)
              self.bn.momentum = 0.99
              for m in self.modules():
                  if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                      m.momentum = 0.9

          def forward(self, x):
              return self.bn(self.conv(x))
    `, errors: [
      { messageId: "assigned", line: 8, column: 28, messageIncludes: ["`momentum = 0.99` on BatchNorm2d(16), set after construction (`self.bn.momentum = 0.99`)", "the PyTorch equivalent is `0.01`"] },
      { messageId: "assigned", line: 11, messageIncludes: "on the BatchNorm layers of `self.modules()` (`m.momentum = 0.9`)" },
    ] },
    { name: "Keras' momentum 0.8 passed where PyTorch takes eps (PyTorch-GAN's port)", code: "import torch.nn as nn\nbn = nn.BatchNorm2d(128, 0.8)\n", errors: [{ messageId: "eps", line: 2, column: 26, messageIncludes: ["`0.8` is the `eps` of BatchNorm2d(128, 0.8), not its momentum", "write `momentum=0.2` (PyTorch's equivalent of Keras' momentum 0.8)"] }] },
    { name: "PyTorch's momentum 0.1 as the second argument", code: "import torch.nn as nn\nbn = nn.BatchNorm1d(64, 0.1)\n", errors: [{ messageId: "eps", line: 2, messageIncludes: "write `momentum=0.1` (PyTorch's convention)" }] },
    { name: "eps by keyword", code: "import torch.nn as nn\nbn = nn.BatchNorm2d(32, eps=0.9, momentum=0.1)\n", errors: [{ messageId: "eps", line: 2, column: 29 }] },
  ],
});

describe("batchnorm-momentum locates the BatchNorm a momentum written elsewhere configures", () => {
  it("through functools.partial and a **dict of keyword arguments, for --confirm and JSON", async () => {
    const code = [
      "from functools import partial",
      "import torch.nn as nn",
      "",
      "TF_BN = dict(momentum=0.99, eps=1e-3)",
      "",
      "class B(nn.Module):",
      "    def __init__(self, norm_layer=partial(nn.BatchNorm2d, momentum=0.99)):",
      "        super().__init__()",
      "        self.bn = norm_layer(32)",
      "",
      "    def forward(self, x):",
      "        return self.bn(x)",
      "",
      "class C(nn.Module):",
      "    def __init__(self):",
      "        super().__init__()",
      "        self.norm = nn.BatchNorm2d(32, **TF_BN)",
      "",
      "    def forward(self, x):",
      "        return self.norm(x)",
    ].join("\n");
    const found = (await lintText(code, "tf_port.py", { ruleSet: [rule] })).messages;
    expect(found.map((m) => [m.range.start.line, m.model, m.modulePath])).toEqual([[4, "C", "norm"], [7, "B", "bn"]]);
    // The dict's values as written, not its keys: `momentum=0.99`, not `momentum=momentum`.
    expect(found[0].message).toContain("in BatchNorm2d(32, momentum=0.99, eps=1e-3)");
  });
});

describe("batchnorm-momentum fix", () => {
  const applied = async (code: string): Promise<string | undefined> => {
    const [m] = (await lintText(code, "case.py", { ruleSet: [rule] })).messages;
    if (!m.fix) return undefined;
    expect(m.fix.safety).toBe("unsafe");
    const [edit] = m.fix.edits;
    return code.slice(0, edit.range[0]) + edit.text + code.slice(edit.range[1]);
  };

  it("moves a momentum written as eps to momentum=, in PyTorch's convention (unsafe), only when no momentum is set", async () => {
    expect(await applied("import torch.nn as nn\nbn = nn.BatchNorm2d(128, 0.8)\n")).toBe("import torch.nn as nn\nbn = nn.BatchNorm2d(128, momentum=0.2)\n");
    expect(await applied("import torch.nn as nn\nbn = nn.BatchNorm2d(128, eps=0.99)\n")).toBe("import torch.nn as nn\nbn = nn.BatchNorm2d(128, momentum=0.01)\n");
    expect(await applied("import torch.nn as nn\nbn = nn.BatchNorm2d(32, eps=0.9, momentum=0.1)\n")).toBeUndefined();
  });

  it("replaces the number with its equivalent (unsafe)", async () => {
    const code = "import torch.nn as nn\nbn = nn.BatchNorm2d(64, eps=1e-3, momentum=0.99)\n";
    const [m] = (await lintText(code, "case.py", { ruleSet: [rule] })).messages;
    expect(m.fix?.safety).toBe("unsafe");
    const [edit] = m.fix!.edits;
    expect(code.slice(0, edit.range[0]) + edit.text + code.slice(edit.range[1])).toBe("import torch.nn as nn\nbn = nn.BatchNorm2d(64, eps=1e-3, momentum=0.01)\n");
  });
});

import { describe, expect, it } from "vitest";
import rule from "../../rules/batchnorm-shape-mismatch.js";
import { lintText } from "../../src/index.js";
import { runCli } from "../../src/cli/main.js";
import { py, runRuleTests } from "../helpers/rule-tester.js";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const head = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n";

runRuleTests(rule, {
  valid: [
    {
      name: "config-object sizes that agree; dims[0] and dims[1] are not known to differ",
      code: py`
        import torch.nn as nn
        class Stem(nn.Module):
            def __init__(self, configs, dims):
                super().__init__()
                self.conv = nn.Conv1d(40, configs.d_model, 3, padding=1)
                self.bn = nn.BatchNorm1d(configs.d_model)
                self.conv2 = nn.Conv1d(configs.d_model, dims[0], 1)
                self.bn2 = nn.BatchNorm1d(dims[1])
            def forward(self, x):
                return self.bn2(self.conv2(self.bn(self.conv(x))))
      `,
    },
    {
      name: "a CSP block whose BatchNorm is built for both halves: BatchNorm2d(2 * c_) on the cat of two c_",
      code: py`
        import torch
        import torch.nn as nn
        class CSP(nn.Module):
            def __init__(self, c1, c2, e=0.5):
                super().__init__()
                c_ = int(c2 * e)
                self.cv1 = nn.Conv2d(c1, c_, 1, bias=False)
                self.cv2 = nn.Conv2d(c1, c_, 1, bias=False)
                self.bn = nn.BatchNorm2d(2 * c_)
            def forward(self, x):
                return self.bn(torch.cat((self.cv1(x), self.cv2(x)), dim=1))
      `,
    },
    {
      name: "opaque widths that may differ by an unknown amount: BatchNorm2d(c_) on c_ + k channels",
      code: py`
        import torch
        import torch.nn as nn
        class Odd(nn.Module):
            def __init__(self, c1, c2, k, e=0.5):
                super().__init__()
                c_ = int(c2 * e)
                extra = int(k * e)
                self.cv1 = nn.Conv2d(c1, c_, 1, bias=False)
                self.cv2 = nn.Conv2d(c1, extra, 1, bias=False)
                self.bn = nn.BatchNorm2d(c_)
            def forward(self, x):
                return self.bn(torch.cat((self.cv1(x), self.cv2(x)), dim=1))
      `,
    },
    {
      name: "Conv2d then BatchNorm2d of its out_channels, keyword arguments",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3)
                self.bn = nn.BatchNorm2d(num_features=16)

            def forward(self, x):
                return self.bn(self.conv(x))
      `,
    },
    {
      name: "symbolic sizes that are equal: planes * self.expansion after conv of planes * 4",
      code: head + py`
        class Block(nn.Module):
            expansion = 4

            def __init__(self, inplanes, planes):
                super().__init__()
                self.conv = nn.Conv2d(inplanes, 4 * planes, 1)
                self.bn = nn.BatchNorm2d(planes * self.expansion)

            def forward(self, x):
                return self.bn(self.conv(x))
      `,
    },
    {
      name: "different parameters are not known to differ (in_ch may equal out_ch)",
      code: head + py`
        class Block(nn.Module):
            def __init__(self, in_ch, out_ch):
                super().__init__()
                self.conv = nn.Conv2d(in_ch, out_ch, 3)
                self.bn = nn.BatchNorm2d(in_ch)

            def forward(self, x):
                return self.bn(self.conv(x))
      `,
    },
    {
      name: "planes * 4 and planes * planes may be equal (planes = 4)",
      code: head + py`
        class Block(nn.Module):
            def __init__(self, planes):
                super().__init__()
                self.conv = nn.Conv2d(planes, planes * 4, 1)
                self.bn = nn.BatchNorm2d(planes * planes)

            def forward(self, x):
                return self.bn(self.conv(x))
      `,
    },
    {
      name: "an unknown function in between: silence",
      code: head + "from mylib import mystery\n" + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 32, 3)
                self.bn = nn.BatchNorm2d(64)

            def forward(self, x):
                return self.bn(mystery(self.conv(x)))
      `,
    },
    {
      name: "affine=False, track_running_stats=False accepts any channel count",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 32, 3)
                self.bn = nn.BatchNorm2d(64, affine=False, track_running_stats=False)

            def forward(self, x):
                return self.bn(self.conv(x))
      `,
    },
    {
      name: "permute puts the features on dim 1",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(8, 32, 3)
                self.fc = nn.Linear(32, 64)
                self.bn = nn.BatchNorm1d(64)

            def forward(self, x):
                x = self.conv(x).permute(0, 2, 1)
                x = self.fc(x).permute(0, 2, 1)
                return self.bn(x)
      `,
    },
    {
      name: "a loop of unknown length: silence",
      code: head + py`
        class Net(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.convs = nn.ModuleList([nn.Conv2d(16, 16, 3, padding=1) for _ in range(n)])
                self.bn = nn.BatchNorm2d(16)

            def forward(self, x):
                for conv in self.convs:
                    x = torch.cat([x, conv(x)], 1)
                    x = self.bn(x)
                return x
      `,
    },
  ],
  invalid: [
    {
      // Time-Series-Library builds models from a config object; ModernTCN from a list of widths.
      name: "sizes read from a config object and from a list parameter",
      code: py`
        import torch.nn as nn
        class Stem(nn.Module):
            def __init__(self, configs, dims):
                super().__init__()
                self.conv = nn.Conv1d(40, configs.d_model, 3, padding=1)
                self.bn = nn.BatchNorm1d(configs.d_model * 2)
                self.conv2 = nn.Conv1d(configs.d_model * 2, dims[0], 1)
                self.bn2 = nn.BatchNorm1d(dims[1])
            def forward(self, x):
                return self.bn2(self.conv2(self.bn(self.conv(x))))
      `,
      errors: [
        { messageId: "channels", line: 10, messageIncludes: "receives configs.d_model channels from `self.conv`" },
      ],
    },
    {
      // OGB's GIN MLPs break nn.Sequential(...) lines with a redundant backslash.
      name: "an nn.Sequential written with a backslash line continuation: children and shapes as without it",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.mlp = nn.Sequential(nn.Conv1d(8, 16, 1), nn.ReLU(), \\
                                         nn.BatchNorm1d(32))
            def forward(self, x):
                return self.mlp(x)
      `,
      errors: [{ messageId: "channels", line: 6, messageIncludes: "`self.mlp[2]` (BatchNorm1d(32)) receives 16 channels" }],
    },
    {
      // yolov7 / YOLOX / mmdet CSP blocks compute hidden widths as `int(c2 * e)`; a layer of size 0 is no layer.
      name: "a BatchNorm of an int() hidden width on the torch.cat of two tensors of that width",
      code: py`
        import torch
        import torch.nn as nn
        class CSPLike(nn.Module):
            def __init__(self, c1, c2, e=0.5):
                super().__init__()
                c_ = int(c2 * e)
                self.cv1 = nn.Conv2d(c1, c_, 1, bias=False)
                self.cv2 = nn.Conv2d(c1, c_, 1, bias=False)
                self.bn = nn.BatchNorm2d(c_)
            def forward(self, x):
                return self.bn(torch.cat((self.cv1(x), self.cv2(x)), dim=1))
      `,
      errors: [{ messageId: "channels", line: 11, messageIncludes: "receives int(c2 * 0.5) * 2 channels from `torch.cat`" }],
    },
    {
      name: "numbers: BatchNorm2d(64) after Conv2d(32, 32, 3)",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(32, 32, 3)
                self.bn = nn.BatchNorm2d(64)

            def forward(self, x):
                return self.bn(self.conv(x))
      `,
      errors: [{
        messageId: "channels", line: 11, column: 16,
        messageIncludes: ["`self.bn` (BatchNorm2d(64)) receives 32 channels from `self.conv` (line 11)", "`RuntimeError: running_mean should contain 32 elements not 64`"],
      }],
    },
    {
      name: "symbolic: planes * 2 after a conv of planes",
      code: head + py`
        class Block(nn.Module):
            def __init__(self, inplanes, planes):
                super().__init__()
                self.conv = nn.Conv2d(inplanes, planes, 3, padding=1)
                self.bn = nn.BatchNorm2d(planes * 2)

            def forward(self, x):
                return self.bn(self.conv(x))
      `,
      errors: [{ messageId: "channels", line: 11, messageIncludes: "BatchNorm2d(planes * 2)) receives planes channels from `self.conv` (line 11)" }],
    },
    {
      name: "rank: BatchNorm1d after Conv2d, inside nn.Sequential (reported at the element)",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(3, 16, 3),
                    nn.BatchNorm1d(16),
                )

            def forward(self, x):
                return self.body(x)
      `,
      errors: [{ messageId: "rank", line: 9, column: 13, messageIncludes: "`ValueError: expected 2D or 3D input (got 4D input)` at run time. Use BatchNorm2d" }],
    },
    {
      name: "rank: BatchNorm2d after flatten",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 3)
                self.bn = nn.BatchNorm2d(16)

            def forward(self, x):
                return self.bn(torch.flatten(self.conv(x), 1))
      `,
      errors: [{ messageId: "rank", line: 11, messageIncludes: ["a 2-D tensor", "`ValueError: expected 4D input (got 2D input)`", "Use BatchNorm1d"] }],
    },
    {
      name: "torch.cat of two branches adds up the channels",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 16, 1)
                self.b = nn.Conv2d(3, 8, 1)
                self.bn = nn.BatchNorm2d(16)

            def forward(self, x):
                return self.bn(torch.cat((self.a(x), self.b(x)), dim=1))
      `,
      errors: [{ messageId: "channels", line: 12, messageIncludes: "receives 24 channels from `torch.cat` (line 12)" }],
    },
    {
      name: "a submodule's forward is followed: the block outputs 64 channels",
      code: head + py`
        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 64, 7, stride=2, padding=3)

            def forward(self, x):
                return F.relu(self.conv(x))


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = Stem()
                self.bn = nn.BatchNorm2d(32)

            def forward(self, x):
                return self.bn(self.stem(x))
      `,
      errors: [{ messageId: "channels", line: 20, messageIncludes: "receives 64 channels" }],
    },
    {
      name: "Linear after adaptive pooling and view(-1) with the wrong in_features",
      code: head + py`
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 64, 3)
                self.bn = nn.BatchNorm2d(64)
                self.pool = nn.AdaptiveAvgPool2d(4)
                self.fc = nn.Linear(64 * 5 * 5, 10)

            def forward(self, x):
                x = self.pool(self.bn(self.conv(x)))
                return self.fc(x.view(x.size(0), -1))
      `,
      errors: [{ messageId: "linear", line: 14, messageIncludes: "receives 1024 input features from `x.view` (line 14), but it was built for 1600" }],
    },
  ],
});

describe("batchnorm-shape-mismatch with --input-shape", () => {
  const lenet = head + py`
    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.bn1 = nn.BatchNorm1d(120)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            return self.bn1(self.fc1(x))
  `;
  const only = { ruleSet: [rule] };

  it("is silent without an input shape: the spatial size is unknown", async () => {
    expect((await lintText(lenet, "lenet.py", only)).messages).toEqual([]);
  });

  it("is silent when the input shape makes the flatten fit (32x32 → 16 * 5 * 5)", async () => {
    expect((await lintText(lenet, "lenet.py", { ...only, inputShapes: { "*": [4, 3, 32, 32] } })).messages).toEqual([]);
  });

  it("reports the Linear when the input shape does not fit (28x28 → 16 * 4 * 4), with the exact PyTorch error", async () => {
    const result = await lintText(lenet, "lenet.py", { ...only, inputShapes: { LeNet: [4, 3, 28, 28] } });
    expect(result.messages.map((m) => [m.range.start.line, m.messageId])).toEqual([[16, "linear"]]);
    expect(result.messages[0].message).toContain("receives 256 input features from `torch.flatten` (line 15), but it was built for 400");
    expect(result.messages[0].message).toContain("`RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x256 and 400x120)`");
  });

  it("applies a shape keyed by another class name to nothing", async () => {
    expect((await lintText(lenet, "lenet.py", { ...only, inputShapes: { Other: [4, 3, 28, 28] } })).messages).toEqual([]);
  });

  describe("CLI", () => {
    const dir = mkdtempSync(join(tmpdir(), "bnlint-shapes-"));
    const file = join(dir, "lenet.py");
    writeFileSync(file, lenet);
    const run = async (...argv: string[]) => {
      let stdout = "";
      let stderr = "";
      const code = await runCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false, env: {}, cwd: dir });
      return { code, stdout, stderr };
    };

    it("--input-shape Model=sizes reaches the shape pass (exit 1, finding in JSON)", async () => {
      const r = await run(file, "--input-shape", "LeNet=4,3,28,28", "-f", "json");
      expect(r.code).toBe(1);
      const [entry] = JSON.parse(r.stdout);
      expect(entry.messages.map((m: { ruleId: string; line: number }) => [m.ruleId, m.line])).toEqual([["batchnorm-shape-mismatch", 16]]);
    });

    it("--input-shape sizes applies to every top-level model; a fitting one is clean (exit 0)", async () => {
      expect((await run(file, "--input-shape", "4,3,32,32")).code).toBe(0);
    });

    it("rejects a malformed --input-shape with exit 2 and says what it expects", async () => {
      const r = await run(file, "--input-shape", "4,three,32");
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("expected sizes such as 1,3,32,32 or Net=1,3,32,32");
    });
  });
});

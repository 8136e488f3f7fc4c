import rule from "../../rules/unused-batchnorm.js";
import { py, runRuleTests } from "../helpers/rule-tester.js";

runRuleTests(rule, {
  valid: [
    {
      name: "a subclass calls it in its own forward",
      code: py`
        import torch.nn as nn
        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 32)
                self.bn = nn.BatchNorm1d(32)
            def forward(self, x):
                return self.fc(x)
        class Child(Base):
            def forward(self, x):
                return self.bn(self.fc(x))
      `,
    },
    {
      name: "read from outside through another receiver (`model.bn`)",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 32)
                self.bn = nn.BatchNorm1d(32)
            def forward(self, x):
                return self.fc(x)
        class Wrapper(nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net
            def forward(self, x):
                return self.net.bn(self.net(x))
      `,
    },
    {
      name: "every BatchNorm is called",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x):
                return self.bn(self.conv(x))
      `,
    },
    {
      name: "used by another method",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, x):
                return self.conv(x)
            def features(self, x):
                return self.bn(self.conv(x))
      `,
    },
    {
      name: "modules reached by computed name",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn0 = nn.BatchNorm1d(4)
                self.bn1 = nn.BatchNorm1d(4)
            def forward(self, x, i: int):
                return getattr(self, f"bn{i}")(x)
      `,
    },
    {
      name: "a class without forward in this file is not judged",
      code: py`
        import torch.nn as nn
        class Stem(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = nn.BatchNorm2d(8)
      `,
    },
  ],
  invalid: [
    {
      // MCD_DA's svhn2mnist: Feature calls its own bn1_fc; Predictor declares one and never calls it.
      name: "another, unrelated class reads its own attribute of the same name",
      code: py`
        import torch.nn as nn
        class Feature(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(64, 32)
                self.bn1_fc = nn.BatchNorm1d(32)
            def forward(self, x):
                return self.bn1_fc(self.fc1(x))
        class Predictor(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn1_fc = nn.BatchNorm1d(32)
                self.fc2 = nn.Linear(32, 10)
            def forward(self, x):
                return self.fc2(x)
      `,
      errors: [{ messageId: "unused", line: 12, column: 9, messageIncludes: "declared in `Predictor.__init__`" }],
    },
    {
      name: "`nn.BatchNorm2d(c) if cin == cout else None` that forward never calls",
      code: py`
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
                self.bn = nn.BatchNorm2d(cout)
                self.bn_id = nn.BatchNorm2d(cin) if cin == cout else None
            def forward(self, x):
                return self.bn(self.conv(x)) + x
      `,
      errors: [{ messageId: "unused", line: 7, messageIncludes: ["`self.bn_id` (BatchNorm2d(cin))"] }],
    },
    {
      name: "declared and never called",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.bn1 = nn.BatchNorm2d(8)
                self.bn2 = nn.BatchNorm2d(8)
            def forward(self, x):
                return self.bn1(self.conv(x))
      `,
      errors: [{ messageId: "unused", line: 7, column: 9, messageIncludes: ["`self.bn2` (BatchNorm2d(8))", "`Net.__init__`"] }],
    },
    {
      name: "modules named by f-strings in unrolled loops: the third BatchNorm is never fetched",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                for i in range(3):
                    setattr(self, f"bn{i}", nn.BatchNorm2d(8))
            def forward(self, x):
                for i in range(2):
                    x = getattr(self, f"bn{i}")(x)
                return x
      `,
      errors: [{ messageId: "unused", line: 6, messageIncludes: ["`self.bn2`"] }],
    },
  ],
});

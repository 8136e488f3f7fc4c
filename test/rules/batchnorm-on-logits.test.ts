import rule from "../../rules/batchnorm-on-logits.js";
import { py, runRuleTests } from "../helpers/rule-tester.js";

runRuleTests(rule, {
  valid: [
    {
      // foamliu/InsightFace-v2: the class scores come from a separate ArcMargin head.
      name: "a face embedding: `fc` to a literal 512, then BatchNorm1d(512)",
      code: py`
        import torch.nn as nn

        class FaceResNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 512, 3, stride=16, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(512)
                self.fc = nn.Linear(512 * 7 * 7, 512)
                self.bn3 = nn.BatchNorm1d(512)

            def forward(self, x):
                x = self.bn2(self.conv(x)).flatten(1)
                return self.bn3(self.fc(x))
      `,
    },
    {
      // A real-code round: reusable "Linear + optional BatchNorm" blocks name their layer `fc` too.
      name: "a generic Linear + BatchNorm block: `self.fc` to `out_dim` is no classifier",
      code: py`
        import torch.nn as nn
        class FCBlock(nn.Module):
            def __init__(self, in_dim, out_dim, use_bn):
                super().__init__()
                self.fc = nn.Linear(in_dim, out_dim, bias=not use_bn)
                self.bn = nn.BatchNorm1d(out_dim) if use_bn else None
            def forward(self, x):
                x = self.fc(x)
                if self.bn is not None:
                    x = self.bn(x)
                return x
      `,
    },
    {
      name: "BatchNorm on an embedding (face recognition)",
      code: py`
        import torch.nn as nn
        class FaceNet(nn.Module):
            def __init__(self, embedding_size=512):
                super().__init__()
                self.body = nn.Conv2d(3, 64, 3)
                self.embedding = nn.Linear(64, embedding_size)
                self.bn = nn.BatchNorm1d(embedding_size)
            def forward(self, x):
                x = self.body(x).mean(dim=(2, 3))
                return self.bn(self.embedding(x))
      `,
    },
    {
      name: "BatchNorm before the classifier",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, num_classes=10):
                super().__init__()
                self.features = nn.Linear(784, 256)
                self.bn = nn.BatchNorm1d(256)
                self.fc = nn.Linear(256, num_classes)
            def forward(self, x):
                return self.fc(self.bn(self.features(x)))
      `,
    },
    {
      name: "a submodule's output is not the model's output",
      code: py`
        import torch.nn as nn
        class Head(nn.Module):
            def __init__(self, num_classes):
                super().__init__()
                self.fc = nn.Linear(64, num_classes)
                self.bn = nn.BatchNorm1d(num_classes)
            def forward(self, x):
                return self.bn(self.fc(x))
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.head = Head(10)
                self.post = nn.Linear(10, 10)
            def forward(self, x):
                return self.post(self.head(x))
      `,
    },
  ],
  invalid: [
    {
      name: "Linear to `classes` (a class count by its name), BatchNorm1d, returned",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, classes):
                super().__init__()
                self.out = nn.Linear(256, classes)
                self.bn = nn.BatchNorm1d(classes)
            def forward(self, x):
                return self.bn(self.out(x))
      `,
      errors: [{ messageId: "onLogits", line: 8, messageIncludes: ["class scores of `self.out`", "`classes`"] }],
    },
    {
      name: "Linear to num_classes, BatchNorm1d, returned",
      code: py`
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, num_classes=10):
                super().__init__()
                self.fc = nn.Linear(256, num_classes)
                self.bn = nn.BatchNorm1d(num_classes)
            def forward(self, x):
                return self.bn(self.fc(x))
      `,
      errors: [{ messageId: "onLogits", line: 8, column: 16, messageIncludes: ["class scores of `self.fc`", "`num_classes`"] }],
    },
    {
      name: "through view and log_softmax",
      code: py`
        import torch.nn as nn
        import torch.nn.functional as F
        class Net(nn.Module):
            def __init__(self, n_classes=10):
                super().__init__()
                self.conv = nn.Conv2d(64, n_classes, 1)
                self.bn = nn.BatchNorm2d(n_classes)
            def forward(self, x):
                x = self.bn(self.conv(x))
                return F.log_softmax(x.view(x.size(0), -1), dim=1)
      `,
      errors: [{ messageId: "onLogits", line: 9, column: 13 }],
    },
  ],
});

import { describe, expect, it } from "vitest";
import { runRuleTests, py } from "../helpers/rule-tester.js";
import { lintText } from "../../src/index.js";
import rule from "../../rules/batchnorm-batch-size-one.js";

const script = (loader: string, opts: { model?: string; data?: string; extra?: string } = {}): string => py`
  import torch
  import torch.nn as nn
  from torch.utils.data import DataLoader, TensorDataset

  class Net(nn.Module):
      def __init__(self):
          super().__init__()
          self.fc = nn.Linear(8, 16)
          self.bn = nn.BatchNorm1d(16)
          self.out = nn.Linear(16, 1)

      def forward(self, x):
          return self.out(self.bn(self.fc(x)))

  class Plain(nn.Module):
      def __init__(self):
          super().__init__()
          self.fc = nn.Linear(8, 1)

      def forward(self, x):
          return self.fc(x)

  data = ${opts.data ?? "TensorDataset(torch.randn(201, 8), torch.randn(201, 1))"}
  loader = ${loader}
  model = ${opts.model ?? "Net()"}
  opt = torch.optim.SGD(model.parameters(), lr=0.1)
  ${opts.extra ?? ""}
  for x, y in loader:
      opt.zero_grad()
      nn.functional.mse_loss(model(x), y).backward()
      opt.step()
`;

runRuleTests(rule, {
  valid: [
    {
      // Attention MIL (histopathology): a bag of instances arrives as a batch of one and `squeeze(0)` makes the
      // instances the rows BatchNorm1d normalizes.
      name: "a bag of instances given as a batch of one, squeezed to rows before the BatchNorm",
      code: py`
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader

        class MIL(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(512, 128)
                self.bn = nn.BatchNorm1d(128)
                self.att = nn.Linear(128, 1)
                self.cls = nn.Linear(128, 2)

            def forward(self, x):
                h = torch.relu(self.bn(self.fc(x.squeeze(0))))
                a = torch.softmax(self.att(h), dim=0)
                return self.cls((a * h).sum(0, keepdim=True))

        model = MIL()
        opt = torch.optim.Adam(model.parameters())
        for bag, label in DataLoader(bags, batch_size=1, shuffle=True):
            loss = nn.functional.cross_entropy(model(bag), label)
            opt.zero_grad()
            loss.backward()
            opt.step()
      `,
    },
    script("DataLoader(data, batch_size=100, drop_last=True)"),
    script("DataLoader(data, batch_size=50)", { data: "TensorDataset(torch.randn(200, 8), torch.randn(200, 1))" }),
    script("DataLoader(data, batch_size=1)", { model: "Plain()" }),
    script("DataLoader(data, batch_size=bs)"),
    script("DataLoader(data, batch_size=1)", { extra: "model.eval()" }),
    script("DataLoader(data, batch_size=1, sampler=sampler)"),
    { name: "dataset size unknown", code: script("DataLoader(data, batch_size=100)", { data: "load_dataset()" }) },
    { name: "the model runs its BatchNorm only for batches of more than one (DQN/DDPG networks)", code: py`
      import torch
      import torch.nn as nn
      from torch.utils.data import DataLoader, TensorDataset

      class QNetwork(nn.Module):
          def __init__(self):
              super().__init__()
              self.fc1 = nn.Linear(8, 128)
              self.bn1 = nn.BatchNorm1d(128)
              self.fc2 = nn.Linear(128, 4)

          def forward(self, state):
              x = torch.relu(self.fc1(state))
              if x.shape[0] > 1:
                  x = self.bn1(x)
              return self.fc2(x)

      q = QNetwork()
      opt = torch.optim.Adam(q.parameters())
      loader = DataLoader(TensorDataset(torch.randn(50, 8), torch.randn(50, 4)), batch_size=1)
      for s, target in loader:
          opt.zero_grad()
          nn.functional.mse_loss(q(s), target).backward()
          opt.step()
    ` },
    { name: "each item is a batch already: the loop folds the loader's axis away with view(-1, ...)", code: script("DataLoader(data, batch_size=1)", { extra: "" }).replace("nn.functional.mse_loss(model(x), y)", "nn.functional.mse_loss(model(x.view(-1, 8)), y.view(-1, 1))") },
  ],
  invalid: [
    {
      name: "after an LSTM whose outputs are unpacked (items of its tuple, not samples of the batch)",
      code: py`
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(16, 32, batch_first=True)
                self.fc = nn.Linear(32, 32)
                self.bn = nn.BatchNorm1d(32)
                self.out = nn.Linear(32, 2)

            def forward(self, x):
                out, (h, c) = self.lstm(x)
                return self.out(self.bn(self.fc(out[:, -1, :])))

        model = Tagger()
        opt = torch.optim.Adam(model.parameters())
        for x, y in DataLoader(data, batch_size=1, shuffle=True):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
      `,
      errors: [{ messageId: "batchSizeOne", line: 19, column: 41 }],
    },
    { code: script("DataLoader(data, batch_size=100)"), errors: [{ messageId: "lastBatchOne", line: 24, column: 10, messageIncludes: ["splits 201 samples into batches of 100", "`self.bn` (BatchNorm1d(16))", "training loop at line 28"] }] },
    { code: script("DataLoader(data, batch_size=1, shuffle=True)"), errors: [{ messageId: "batchSizeOne", line: 24, column: 38, messageIncludes: "Expected more than 1 value per channel when training" }] },
    { name: "a DataLoader written inline in the for statement", code: script("None").replace("for x, y in loader:", "for x, y in DataLoader(data, batch_size=1):"), errors: [{ messageId: "batchSizeOne", line: 28, messageIncludes: "`DataLoader(…)` yields batches of one sample" }] },
    { name: "batch size through a module-level constant", code: script("DataLoader(data, batch_size=BATCH_SIZE)").replace("import torch\n", "import torch\nBATCH_SIZE = 1\n"), errors: [{ messageId: "batchSizeOne", line: 25 }] },
    { name: "default batch size is 1", code: script("DataLoader(data, shuffle=True)"), errors: [{ messageId: "batchSizeOne", line: 24, column: 10 }] },
    { name: "randint size tuple, enumerate", code: py`
      import torch
      import torch.nn as nn
      from torch.utils.data import DataLoader, TensorDataset

      class Net(nn.Module):
          def __init__(self):
              super().__init__()
              self.fc = nn.Linear(8, 16)
              self.bn = nn.BatchNorm1d(16)

          def forward(self, x):
              return self.bn(torch.relu(self.fc(x)))

      def main():
          xs = torch.randint(0, 5, (65, 8)).float()
          ds = TensorDataset(torch.randint(0, 5, (65, 8)), torch.zeros(65))
          dl = DataLoader(ds, 32, shuffle=True)
          net = Net().to("cpu")
          opt = torch.optim.Adam(net.parameters())
          for i, (x, y) in enumerate(dl):
              opt.zero_grad()
              net(x.float()).sum().backward()
              opt.step()
    `, errors: [{ messageId: "lastBatchOne", line: 17, column: 10, messageIncludes: "splits 65 samples into batches of 32" }] },
    { name: "a model that starts by global pooling (an image-pooling branch on its own): batched images, BatchNorm on (N, C, 1, 1)", code: py`
      import torch
      import torch.nn as nn
      from torch.utils.data import DataLoader

      class ImagePool(nn.Module):
          def __init__(self, cin=64, cout=32):
              super().__init__()
              self.pool = nn.AdaptiveAvgPool2d(1)
              self.conv = nn.Conv2d(cin, cout, 1, bias=False)
              self.bn = nn.BatchNorm2d(cout)

          def forward(self, x):
              return torch.relu(self.bn(self.conv(self.pool(x))))

      def train(data):
          loader = DataLoader(data, batch_size=1)
          model = ImagePool()
          opt = torch.optim.SGD(model.parameters(), lr=0.1)
          for x in loader:
              opt.zero_grad()
              model(x).sum().backward()
              opt.step()
    `, errors: [{ messageId: "batchSizeOne", line: 16, messageIncludes: "(N, C, 1, 1)" }] },
  ],
});

describe("batchnorm-batch-size-one fix", () => {
  it("adds drop_last=True for the last-batch case (unsafe)", async () => {
    const code = script("DataLoader(data, batch_size=100)");
    const [m] = (await lintText(code, "case.py", { ruleSet: [rule] })).messages;
    expect(m.fix?.safety).toBe("unsafe");
    const [edit] = m.fix!.edits;
    expect(code.slice(0, edit.range[0]) + edit.text + code.slice(edit.range[1])).toBe(script("DataLoader(data, batch_size=100, drop_last=True)"));
  });
});

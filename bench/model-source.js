// A generated PyTorch file of about `lines` lines: many small conv/BN blocks and one model that reuses a
// BatchNorm, so every lint has real work and one finding. Shared by the LSP benchmark.
export function generateModelFile(lines = 2000) {
  const out = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F", ""];
  let i = 0;
  while (out.length < lines - 20) {
    out.push(
      "",
      `class Block${i}(nn.Module):`,
      `    """Conv-BN-ReLU block number ${i}."""`,
      "",
      "    def __init__(self, channels=32):",
      "        super().__init__()",
      "        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)",
      "        self.bn1 = nn.BatchNorm2d(channels)",
      "        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)",
      "        self.bn2 = nn.BatchNorm2d(channels)",
      "        self.conv3 = nn.Conv2d(channels, channels, 1)",
      "        self.bn3 = nn.BatchNorm2d(channels)",
      "",
      "    def forward(self, x):",
      "        identity = x",
      "        out = F.relu(self.bn1(self.conv1(x)))",
      "        out = F.relu(self.bn2(self.conv2(out)))",
      "        out = self.bn3(self.conv3(out))",
      "        if out.shape[1] == identity.shape[1]:",
      "            out = out + identity",
      "        return F.relu(out)",
    );
    i++;
  }
  out.push(
    "",
    "class Net(nn.Module):",
    "    def __init__(self):",
    "        super().__init__()",
    "        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)",
    "        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)",
    "        self.bn = nn.BatchNorm2d(32)",
    "        self.block = Block0(32)",
    "",
    "    def forward(self, x):",
    "        x = self.bn(self.conv1(x))",
    "        x = self.bn(self.conv2(x))",
    "        return self.block(x)",
  );
  while (out.length < lines) out.push("# padding");
  return out.join("\n") + "\n";
}

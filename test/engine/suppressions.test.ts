import { describe, expect, it } from "vitest";
import { lintText } from "../../src/index.js";
import { py } from "../helpers/rule-tester.js";
import { cli, tempTree } from "../helpers/cli.js";

const model = (tail: { call2?: string; before2?: string; decl?: string; top?: string } = {}) => py`
  ${tail.top ?? "import torch"}
  import torch.nn as nn

  class Net(nn.Module):
      def __init__(self):
          super().__init__()
          self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
          self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
          self.bn = nn.BatchNorm2d(32)
          self.spare = nn.BatchNorm2d(32)${tail.decl ?? ""}

      def forward(self, x):
          x = self.bn(self.conv1(x))
          ${tail.before2 ?? "pass"}
          x = self.bn(self.conv2(x))${tail.call2 ?? ""}
          return x
`;

async function lint(code: string, reportUnused?: "error") {
  const r = await lintText(code, "net.py", { reportUnusedDisableDirectives: reportUnused });
  return {
    shown: r.messages.map((m) => `${m.range.start.line} ${m.ruleId ?? "directive"}`),
    suppressed: r.suppressedMessages.map((m) => ({ line: m.range.start.line, ruleId: m.ruleId, suppressions: m.suppressions })),
  };
}

describe("suppression comments", () => {
  it("reports both findings without comments", async () => {
    expect((await lint(model())).shown).toEqual(["10 unused-batchnorm", "15 reused-batchnorm"]);
  });

  it("`# bnlint: disable=<id>` on the line, with a reason", async () => {
    const r = await lint(model({ call2: "  # bnlint: disable=reused-batchnorm -- weight tying is intended here" }));
    expect(r.shown).toEqual(["10 unused-batchnorm"]);
    expect(r.suppressed).toEqual([{ line: 15, ruleId: "reused-batchnorm", suppressions: [{ kind: "directive", justification: "weight tying is intended here" }] }]);
  });

  it("`# bnlint: disable-next-line=<id>`", async () => {
    const r = await lint(model({ before2: "# bnlint: disable-next-line=reused-batchnorm" }));
    expect(r.shown).toEqual(["10 unused-batchnorm"]);
    expect(r.suppressed.map((s) => s.line)).toEqual([15]);
  });

  it("`# bnlint: disable-file=<id>,<id>` anywhere in the file", async () => {
    const r = await lint(model({ top: "import torch  # bnlint: disable-file=reused-batchnorm, unused-batchnorm" }));
    expect(r.shown).toEqual([]);
    expect(r.suppressed.map((s) => s.ruleId)).toEqual(["unused-batchnorm", "reused-batchnorm"]);
  });

  it("Ruff's `# noqa: <id>`, mixed with other tools' codes", async () => {
    const r = await lint(model({ decl: "  # noqa: E501, unused-batchnorm" }));
    expect(r.shown).toEqual(["15 reused-batchnorm"]);
    expect(r.suppressed.map((s) => s.ruleId)).toEqual(["unused-batchnorm"]);
  });

  it("a directive for another rule or line silences nothing", async () => {
    const r = await lint(model({ call2: "  # bnlint: disable=unused-batchnorm", before2: "# noqa: reused-batchnorm" }));
    expect(r.shown).toEqual(["10 unused-batchnorm", "15 reused-batchnorm"]);
  });

  it("text that only looks like a directive inside a string does not count", async () => {
    const r = await lint(model({ before2: 'note = "# bnlint: disable-file=reused-batchnorm"' }));
    expect(r.shown).toEqual(["10 unused-batchnorm", "15 reused-batchnorm"]);
  });

  it("--report-unused-disable-directives reports directives that matched nothing, not other tools' noqa codes", async () => {
    const code = model({ call2: "  # bnlint: disable=reused-batchnorm,unused-batchnorm", decl: "  # noqa: E501", before2: "# bnlint: disable-next-line=no-such-rule" });
    const r = await lintText(code, "net.py", { reportUnusedDisableDirectives: "error" });
    expect(r.messages.map((m) => [m.range.start.line, m.ruleId, m.severity, m.message])).toEqual([
      [10, "unused-batchnorm", 1, expect.any(String)],
      [14, null, 2, "Unused suppression directive: `no-such-rule` is not a bnlint rule. Remove it from the comment."],
      [15, null, 2, "Unused suppression directive: no `unused-batchnorm` problem was reported here. Remove it from the comment."],
    ]);
    expect(r.suppressedMessages.map((m) => m.ruleId)).toEqual(["reused-batchnorm"]);
  });

  it("suppressed findings appear in JSON's suppressedMessages, and the exit code ignores them", async () => {
    const root = tempTree({ "net.py": model({ call2: "  # bnlint: disable=reused-batchnorm -- tied on purpose" }) });
    const run = await cli(["-f", "json", "net.py"], root);
    const [file] = JSON.parse(run.stdout);
    expect(file.messages.map((m: { ruleId: string }) => m.ruleId)).toEqual(["unused-batchnorm"]);
    expect(file.suppressedMessages).toHaveLength(1);
    expect(file.suppressedMessages[0]).toMatchObject({ ruleId: "reused-batchnorm", line: 15, suppressions: [{ kind: "directive", justification: "tied on purpose" }] });
    expect(file.errorCount).toBe(0);
    expect(run.code).toBe(0);
    const strict = await cli(["--report-unused-disable-directives", "-f", "json", "net.py"], root);
    expect(strict.code).toBe(0);
  });
});

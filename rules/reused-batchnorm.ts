import { defineRule, fixes, queries, type RuleContext, type ForwardGraph, type GraphNode, type ModuleInstance, type SourceRange } from "../src/rule.js";

const { batchNormRuns, constructorLabel, dependsOn, loopOf, mutuallyExclusive, producerSignature, siteRelativeTo } = queries;

/**
 * Runs compared per instance and call sites named per message. Past these (a BatchNorm run thousands of
 * times, generated code) the rule compares the first runs only and shortens its lists, so its time and its
 * output stay linear in the size of the file.
 */
const MAX_RUNS_COMPARED = 256;
const MAX_SITES_LISTED = 10;

interface Site {
  range: SourceRange;
  runs: GraphNode[];
}

/**
 * Runs that see a different distribution than an earlier run: the later input depends on the earlier output
 * (a chain, a loop), or the two inputs come from different producers (parallel branches).
 */
function runsThatMixDistributions(graph: ForwardGraph, runs: GraphNode[]): { bad: Set<GraphNode>; chained: boolean } {
  const bad = new Set<GraphNode>();
  let chained = false;
  // Each run's producer, computed once: the pairwise loop below is quadratic in the number of runs.
  const signatures = runs.map((r) => (r.inputs[0] !== undefined ? producerSignature(graph, r.inputs[0]) : undefined));
  for (let j = 1; j < runs.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = runs[i];
      const b = runs[j];
      if (mutuallyExclusive(a, b, graph.branchConditions)) continue;
      if (dependsOn(graph, b, a)) {
        chained = true;
        bad.add(b);
        break;
      }
      const sa = signatures[i];
      const sb = signatures[j];
      if (sa !== undefined && sb !== undefined && sa !== sb) {
        bad.add(b);
        break;
      }
    }
  }
  return { bad, chained };
}

/** "lines 46 and 48"; positions as line:column when two calls share a line. */
function siteList(ranges: SourceRange[]): string {
  const lines = ranges.map((r) => r.start.line);
  const shared = new Set(lines).size < lines.length;
  const labels = ranges.map((r) => (shared ? `${r.start.line}:${r.start.column}` : String(r.start.line)));
  if (labels.length === 1) return `line ${labels[0]}`;
  if (labels.length > MAX_SITES_LISTED) return `${shared ? "" : "lines "}${labels.slice(0, MAX_SITES_LISTED).join(", ")} and ${labels.length - MAX_SITES_LISTED} more`;
  return `${shared ? "" : "lines "}${labels.slice(0, -1).join(", ")} and ${labels[labels.length - 1]}`;
}

function sourceText(text: string, range: SourceRange | undefined, fallback: string): string {
  return range ? text.slice(range.startIndex, range.endIndex) : fallback;
}

export default defineRule({
  meta: {
    id: "reused-batchnorm",
    defaultSeverity: "error",
    description: "One BatchNorm instance runs at several places of a forward pass, so its running statistics mix several distributions.",
    frameworks: ["torch"],
    messages: {
      reused:
        "`{{callee}}` ({{ctor}}){{calledAs}} runs {{times}} in one forward pass of `{{model}}` ({{lines}}): {{why}}. Its running mean and variance average all of these inputs, so after model.eval() this call is normalized with statistics that fit none of them and eval accuracy collapses while training looks fine. Give each call site its own {{ctor}} (one module per call, or an nn.Sequential of distinct instances).",
      reusedInLoop:
        "`{{callee}}` ({{ctor}}){{calledAs}} runs {{times}} in one forward pass of `{{model}}`, inside the loop at line {{loopLine}}: {{loopWhy}}. Its running mean and variance average every iteration's input, so after model.eval() each iteration is normalized with statistics that fit none of them. Use one {{type}} per iteration (e.g. an nn.ModuleList indexed by the loop variable).",
    },
    fixable: "unsafe",
    hasSuggestions: true,
    docs: {
      whatItDoes:
        "Finds a BatchNorm module instance (BatchNorm1d/2d/3d, SyncBatchNorm, LazyBatchNorm*) that is called more than once per forward pass on inputs from different distributions: directly, in a loop, through a helper method, through a submodule that received it, or listed twice in an nn.Sequential.",
      whyIsThisBad:
        "In training mode BatchNorm normalizes with the statistics of the current batch, so every call looks fine. But it also keeps one running mean and variance, updated by every call. When one instance normalizes the outputs of two different layers, those running statistics average two distributions. model.eval() then normalizes each call with statistics that fit neither: the forum model behind bnlint reached perfect training accuracy and 10% (chance) in eval mode.",
      example: {
        bad: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)",
          "        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)",
          "        self.bn = nn.BatchNorm2d(32)",
          "",
          "    def forward(self, x):",
          "        x = self.bn(self.conv1(x))",
          "        x = self.bn(self.conv2(x))",
          "        return x",
        ].join("\n"),
        good: [
          "import torch.nn as nn",
          "",
          "class Net(nn.Module):",
          "    def __init__(self):",
          "        super().__init__()",
          "        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)",
          "        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)",
          "        self.bn1 = nn.BatchNorm2d(32)",
          "        self.bn2 = nn.BatchNorm2d(32)",
          "",
          "    def forward(self, x):",
          "        x = self.bn1(self.conv1(x))",
          "        x = self.bn2(self.conv2(x))",
          "        return x",
        ].join("\n"),
      },
      fix:
        "Declare one BatchNorm per call site (same constructor arguments) and call each once; in an nn.Sequential, list a new instance instead of the same one twice. The fix is unsafe: parameter names change (`bn.weight` becomes `bn1.weight`, `bn2.weight`), so checkpoints saved before need their keys mapped. `--fix --unsafe-fixes` does this for separate call sites (`self.bn_2 = ...` declared after `self.bn`, the second call renamed) and for an instance listed twice in an nn.Sequential; a suggestion keeps one shared weight and bias with separate running statistics, for towers that share on purpose. Loops of known length and instances handed to two submodules get a suggestion (an nn.ModuleList indexed by the loop variable; a new instance for the second submodule), never an automatic fix.",
      knownLimitations:
        "Silent when the runs are independent and every input comes from the same module path: one tower applied to several inputs (SimSiam's predictor on two views, Barlow Twins' `self.bn(z1)` and `self.bn(z2)`) shares weights by design and its statistics see one distribution. A shared module is followed back to its own inputs, though: CBAM's shared MLP with BatchNorm run on the average-pooled and on the max-pooled descriptor is reported, since those are two distributions. Silent for calls in exclusive if/else branches (also under two ifs on one `self` flag bnlint cannot decide that need it with opposite values: `if self.pre_norm: x = self.norm(x)` … `if not self.pre_norm: x = self.norm(x)`), for modules reached through `getattr(self, name)` with a name bnlint cannot compute (from outside the class, or over a loop of unknown length), and for instances handed to code outside the file.",
    },
  },
  check(context) {
    for (const graph of context.analysis.graphs) {
      for (const [inst, runs] of batchNormRuns(graph)) {
        if (runs.length < 2 || inst.escaped) continue;
        const { bad, chained } = runsThatMixDistributions(graph, runs.slice(0, MAX_RUNS_COMPARED));
        if (bad.size === 0) continue;
        reportInstance(context, graph, inst, runs, bad, chained);
      }
    }
  },
});

type Ctx = RuleContext<"reused" | "reusedInLoop">;

function reportInstance(context: Ctx, graph: ForwardGraph, inst: ModuleInstance, runs: GraphNode[], bad: Set<GraphNode>, chained: boolean): void {
  const first = runs[0];
  // Group runs by where a reader sees them called.
  const sites: Site[] = [];
  const siteAt = new Map<string, Site>();
  for (const run of runs) {
    const range = run === first ? siteRelativeTo(first, runs[1]) : siteRelativeTo(run, first);
    const key = `${range.startIndex}:${range.endIndex}`;
    const existing = siteAt.get(key);
    if (existing) existing.runs.push(run);
    else {
      const site = { range, runs: [run] };
      siteAt.set(key, site);
      sites.push(site);
    }
  }
  const ctor = constructorLabel(inst);
  const type = ctor.replace(/\(.*$/s, "");
  const model = graph.modelClass.name;
  const declaration = inst.declStatement ?? inst.ctorRange;
  const callee = inst.paths[0] ? queries.instancePythonPath(inst) : sourceText(context.text, first.calleeRange, "the BatchNorm");
  const producers = [...new Set(runs.map((r) => describeProducer(graph, r)).filter((p): p is string => !!p))];
  const times = runs.some((r) => loopOf(r)?.count === "many") ? "2 or more times" : `${runs.length} times`;
  const why = chained
    ? "each call normalizes a tensor computed from the output of the call before it"
    : producers.length > 1
      ? `its calls normalize the outputs of different layers (${producers.join(", ")})`
      : "its calls see inputs from different sources";
  for (let s = 0; s < sites.length; s++) {
    const site = sites[s];
    const isFirstSite = s === 0;
    if (!site.runs.some((r) => bad.has(r))) continue;
    if (isFirstSite && sites.length > 1) continue;
    const related = [
      ...(isFirstSite ? [] : [{ message: `first call of \`${callee}\``, at: sites[0].range }]),
      ...sites.slice(1, MAX_SITES_LISTED + 1).filter((o) => o !== site).map((o) => ({ message: `another call of \`${callee}\``, at: o.range })),
      { message: `\`${callee}\` is declared here`, at: declaration },
    ];
    const loop = loopOf(site.runs[site.runs.length - 1]);
    const { fix, suggestions } = fixesFor(context, graph, inst, site, s + 1);
    const loopOnly = sites.length === 1 && loop !== undefined;
    context.report({
      messageId: loopOnly ? "reusedInLoop" : "reused",
      data: {
        callee,
        calledAs: calledAs(context.text, site.runs[0], callee),
        ctor,
        type,
        model,
        times,
        lines: siteList(sites.map((x) => x.range)),
        why,
        loopLine: loop?.range.start.line ?? site.range.start.line,
        loopWhy: chained
          ? "each iteration normalizes the output of the previous one"
          : producers.length > 1
            ? `its iterations normalize the outputs of different layers (${producers.join(", ")})`
            : "its iterations see inputs from different sources",
      },
      at: site.range,
      related,
      fix,
      suggestions: suggestions.length > 0 ? suggestions : undefined,
      model,
      modulePath: inst.paths[0],
      // Each BatchNorm of a container called twice is its own finding at that call.
      subject: inst.ctorRange.startIndex,
    });
  }
}

/** The automatic fix for a separate call site, or a suggestion for loops and instances shared by submodules. */
function fixesFor(context: Ctx, graph: ForwardGraph, inst: ModuleInstance, site: Site, ordinal: number): ReturnType<typeof fixes.splitReusedBatchNorm> {
  const last = site.runs[site.runs.length - 1];
  if (site.runs.length === 1) {
    const split = fixes.splitReusedBatchNorm(context.text, context.index, inst, site.range, last, ordinal);
    if (split.fix) return split;
    const handed = fixes.ownInstanceForSubmodule(context.text, context.index, graph, inst, site.range, ordinal);
    return { suggestions: handed ? [handed] : [] };
  }
  const perIteration = fixes.perIterationSuggestion(context.text, context.index, inst, last, (n) => context.analysis.attributeReads(n));
  return { suggestions: perIteration ? [perIteration] : [] };
}

/** The instance's name, and the name it is called by at this site when that differs (an alias, a submodule). */
function calledAs(text: string, run: GraphNode, name: string): string {
  const here = sourceText(text, run.calleeRange, name);
  return here === name || !/^[\w.]+$/.test(here) ? "" : `, called here as \`${here}\`,`;
}

function describeProducer(graph: ForwardGraph, run: GraphNode): string | undefined {
  let n = graph.nodes[run.inputs[0]];
  while (n && (n.op === "call_function" || n.op === "call_method") && n.inputs.length === 1) n = graph.nodes[n.inputs[0]];
  if (n?.op === "call_module") return queries.nodePythonPath(n);
  return undefined;
}

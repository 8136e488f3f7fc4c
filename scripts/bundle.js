// `npm run build`, after tsc: bundles the CLI into dist/bundle/ so a single-file run loads a handful of
// files instead of ~60 modules. Lazily loaded parts (formatters, fixer, config, executor, language server)
// become their own chunks; packages with wasm/native assets or heavy trees stay external and load from node_modules.
import { build } from "esbuild";
import { rmSync } from "node:fs";

const outdir = new URL("../dist/bundle/", import.meta.url).pathname;

// commander requires node:child_process at load time, only to spawn stand-alone subcommand executables, which
// bnlint has none of; loading it (with net, dgram and streams) costs ~10 ms of every start. Give commander a
// module that loads child_process on first use instead.
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes("/node_modules/commander/") ? { path: "lazy-child-process", namespace: "bnlint-lazy" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "bnlint-lazy" }, () => ({
      contents: 'module.exports = new Proxy({}, { get: (_, key) => require("node:child_process")[key] });',
      loader: "js",
    }));
  },
};
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { main: "src/cli/main.ts", "lint-worker": "src/cli/lint-worker.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunk-[hash]",
  external: ["web-tree-sitter", "tree-sitter-python", "@tensorflow/*", "vscode-languageserver", "vscode-languageserver/*", "vscode-languageserver-textdocument", "ts-morph"],
  // Bundled CommonJS packages (commander) call require() for Node built-ins: give ESM chunks a real one.
  banner: { js: 'import { createRequire as __bnlintRequire } from "node:module"; const require = __bnlintRequire(import.meta.url);' },
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: "linked",
  logLevel: "warning",
  plugins: [lazyChildProcess],
});

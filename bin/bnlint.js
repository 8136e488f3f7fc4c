#!/usr/bin/env node
import module from "node:module";

// Node >= 22.1 can keep V8's compiled code of the bundle between runs; Node 20 has no such cache for ES modules.
module.enableCompileCache?.();
const { main } = await import("../dist/bundle/main.js");
await main();

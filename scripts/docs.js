// Regenerates README's rules section from the rules' metadata (run after `npm run build`).
import { readFileSync, writeFileSync } from "node:fs";
import { rules } from "../dist/rules/index.js";
import { updateReadme } from "../dist/src/docs/render.js";

const path = new URL("../README.md", import.meta.url);
const before = readFileSync(path, "utf8");
const after = updateReadme(before, rules);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? "README rules section is current" : "README rules section updated");
